// Loaded before every TypeScript example the docs test runs (`node --import tsx --import <this>`).
// supabase-js answers a refusal with `{ error }` instead of throwing, so an example whose call
// Gatehouse refused would still exit 0. This fails the example instead: every answer of 400 or
// more from Gatehouse is printed to stderr and sets the exit code.
const base = process.env.GATEHOUSE_URL ?? '';
const realFetch = globalThis.fetch;

globalThis.fetch = async function fetchThatReportsRefusals(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const response = await realFetch(input, init);
  const url = input instanceof Request ? input.url : String(input);
  if (base && url.startsWith(base) && response.status >= 400) {
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const body = await response.clone().text();
    process.stderr.write(`Gatehouse refused ${method} ${url.slice(base.length)}: ${response.status} ${body.slice(0, 500)}\n`);
    process.exitCode = 1;
  }
  return response;
};
