export { FAKE_KEYS, startFakeLlm, type FakeLlm, type FakeMode, type RecordedRequest } from './server.js';
