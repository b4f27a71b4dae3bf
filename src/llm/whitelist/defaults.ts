// The endpoints an app needs, per wire format (issue 5 §3). Everything not
// listed — administration, organization, projects, users, invites, API keys,
// fine-tuning, usage and billing — is refused. Parameter names are resource
// kinds (see ownership/resource-kinds.ts). Flags: usage (tokens counted),
// list (filtered to the caller's own), detach, upload (multipart/form-data
// besides JSON; fields naming a resource are refused, proxy/multipart-guard.ts).
// Container files are JSON only ({ file_id }): their multipart form exists
// only to carry a file or a file_id, and JSON is the form whose ids we check.

export type ProviderKind = 'openai' | 'anthropic' | 'gemini';

const OPENAI = `
POST /v1/chat/completions usage
POST /v1/completions usage
POST /v1/embeddings usage
POST /v1/moderations
POST /v1/images/generations
POST /v1/images/edits upload
POST /v1/images/variations upload
POST /v1/audio/speech
POST /v1/audio/transcriptions upload
POST /v1/audio/translations upload
GET /v1/models
GET /v1/models/{model}
POST /v1/responses usage
GET /v1/responses/{response}
DELETE /v1/responses/{response}
POST /v1/responses/{response}/cancel
GET /v1/responses/{response}/input_items
GET /v1/files list
POST /v1/files upload
GET /v1/files/{file}
DELETE /v1/files/{file}
GET /v1/files/{file}/content
POST /v1/uploads
POST /v1/uploads/{upload}/parts upload
POST /v1/uploads/{upload}/complete
POST /v1/uploads/{upload}/cancel
GET /v1/batches list
POST /v1/batches
GET /v1/batches/{batch}
POST /v1/batches/{batch}/cancel
GET /v1/assistants list
POST /v1/assistants
GET /v1/assistants/{assistant}
POST /v1/assistants/{assistant}
DELETE /v1/assistants/{assistant}
POST /v1/threads
POST /v1/threads/runs usage
GET /v1/threads/{thread}
POST /v1/threads/{thread}
DELETE /v1/threads/{thread}
GET /v1/threads/{thread}/messages
POST /v1/threads/{thread}/messages
GET /v1/threads/{thread}/messages/{message}
POST /v1/threads/{thread}/messages/{message}
DELETE /v1/threads/{thread}/messages/{message}
GET /v1/threads/{thread}/runs
POST /v1/threads/{thread}/runs usage
GET /v1/threads/{thread}/runs/{run}
POST /v1/threads/{thread}/runs/{run}
POST /v1/threads/{thread}/runs/{run}/cancel
POST /v1/threads/{thread}/runs/{run}/submit_tool_outputs usage
GET /v1/threads/{thread}/runs/{run}/steps
GET /v1/threads/{thread}/runs/{run}/steps/{step}
GET /v1/vector_stores list
POST /v1/vector_stores
GET /v1/vector_stores/{vector_store}
POST /v1/vector_stores/{vector_store}
DELETE /v1/vector_stores/{vector_store}
POST /v1/vector_stores/{vector_store}/search
GET /v1/vector_stores/{vector_store}/files
POST /v1/vector_stores/{vector_store}/files
GET /v1/vector_stores/{vector_store}/files/{file}
POST /v1/vector_stores/{vector_store}/files/{file}
DELETE /v1/vector_stores/{vector_store}/files/{file} detach
GET /v1/vector_stores/{vector_store}/files/{file}/content
POST /v1/vector_stores/{vector_store}/file_batches
GET /v1/vector_stores/{vector_store}/file_batches/{file_batch}
POST /v1/vector_stores/{vector_store}/file_batches/{file_batch}/cancel
GET /v1/vector_stores/{vector_store}/file_batches/{file_batch}/files
POST /v1/conversations
GET /v1/conversations/{conversation}
POST /v1/conversations/{conversation}
DELETE /v1/conversations/{conversation}
GET /v1/conversations/{conversation}/items
POST /v1/conversations/{conversation}/items
GET /v1/conversations/{conversation}/items/{item}
DELETE /v1/conversations/{conversation}/items/{item} detach
GET /v1/containers list
POST /v1/containers
GET /v1/containers/{container}
DELETE /v1/containers/{container}
GET /v1/containers/{container}/files
POST /v1/containers/{container}/files
GET /v1/containers/{container}/files/{container_file}
DELETE /v1/containers/{container}/files/{container_file}
GET /v1/containers/{container}/files/{container_file}/content
`;

const ANTHROPIC = `
POST /v1/messages usage
POST /v1/messages/count_tokens
GET /v1/models
GET /v1/models/{model}
GET /v1/files list
POST /v1/files upload
GET /v1/files/{file}
DELETE /v1/files/{file}
GET /v1/files/{file}/content
GET /v1/messages/batches list
POST /v1/messages/batches
GET /v1/messages/batches/{batch}
POST /v1/messages/batches/{batch}/cancel
DELETE /v1/messages/batches/{batch}
GET /v1/messages/batches/{batch}/results
`;

// Gemini serves the same endpoints under v1 and v1beta.
const GEMINI = ['v1', 'v1beta'].map((v) => `
POST /${v}/models/{model}:generateContent usage
POST /${v}/models/{model}:streamGenerateContent usage
POST /${v}/models/{model}:countTokens
POST /${v}/models/{model}:embedContent
POST /${v}/models/{model}:batchEmbedContents
GET /${v}/models
GET /${v}/models/{model}
POST /upload/${v}/files upload
GET /${v}/files list
GET /${v}/files/{file}
DELETE /${v}/files/{file}
`).join('');

export const DEFAULT_ENDPOINTS: Record<ProviderKind, readonly string[]> = {
  openai: lines(OPENAI),
  anthropic: lines(ANTHROPIC),
  gemini: lines(GEMINI),
};

/**
 * Never allowed, even by an admin's extension: these act on the provider
 * account itself (keys, members, billing), not on one user's work, and every
 * end user of the app would reach them with the project's provider key.
 */
export const NEVER_ALLOWED = /\/(organization|organizations|admin|admin_api_keys|api_keys|projects|users|invites|billing|usage|dashboard|workspaces)(\/|$)/i;

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}
