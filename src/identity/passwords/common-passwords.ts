// The most common passwords of 8+ characters (shorter ones fail the length
// rule anyway), lower-cased. Small on purpose: it stops the first guesses of a
// credential-stuffing list; breach-corpus checks belong to a later feature.
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456789', '12345678', 'password', '1234567890', 'qwertyuiop', '11111111', '00000000', 'iloveyou',
  '123123123', 'password1', 'abc12345', 'qwerty123', '1q2w3e4r', '1qaz2wsx', '987654321', 'qwertyui',
  '88888888', 'sunshine', 'princess', 'football', 'baseball', 'welcome1', 'passw0rd', 'password123',
  'superman', 'trustno1', 'starwars', 'michelle', 'jennifer', '12341234', '1q2w3e4r5t', 'zaq12wsx',
  '123qweasd', 'qwe123456', 'asdfghjkl', '1234qwer', '11223344', 'a1234567', 'q1w2e3r4', 'computer',
  'whatever', 'dragon123', 'iloveyou1', 'babygirl1', 'football1', 'monkey123', 'welcome123', 'changeme',
  'letmein1', 'letmein123', 'admin123', 'administrator', 'password12', 'password1234', 'p@ssw0rd',
  'p@ssword', 'passw0rd!', 'qwerty1234', '1234567891', '12344321', '147258369', '159753456', 'asdf1234',
  'zxcvbnm1', 'zxcvbnmas', '1qazxsw2', 'mustang1', 'shadow12', 'master123', 'jordan23', 'pokemon1',
  'liverpool', 'chelsea1', 'arsenal1', 'summer2024', 'summer2025', 'winter2024', 'spring2024', 'autumn2024',
  '12345678910', '55555555', '66666666', '77777777', '99999999', '22222222', '33333333', '44444444',
  'aaaaaaaa', 'abcdefgh', 'abcd1234', 'qwertyu1', 'iloveyou2', 'secret123', 'hello123', 'hello1234',
  'freedom1', 'internet', 'killer123', 'samsung1', 'google123', 'charlie1', 'michael1', 'jessica1',
  'ashley12', 'daniel12', 'matthew1', 'loveme12', '1234abcd', 'qazwsxedc', 'qazwsx123', '123456abc',
  '123abc123', '0123456789', '9876543210', 'password!', 'welcome!', 'gatehouse', 'supabase', 'firebase',
]);
