export { FAKE_KEYS, startFakeLlm, type FakeLlm, type FakeMode, type RecordedRequest } from './server.js';
export { expireGeminiFile, geminiFileBytes, type GeminiFile } from './gemini-upload.js';
