import { describe, expect, it } from 'vitest';
import { geminiFileReference, isGeminiFileUriKey } from './gemini-file-uri.js';
import { bodyReferences } from './resource-kinds.js';

describe('Gemini file references are normalised before the ownership check', () => {
  it('every spelling of the key a protobuf JSON parser could accept is a file reference', () => {
    for (const key of ['fileUri', 'file_uri', 'FileUri', 'FILE_URI', 'fileuri', 'File_Uri', 'FILEURI']) {
      expect(isGeminiFileUriKey(key), key).toBe(true);
      const refs = bodyReferences({ contents: [{ parts: [{ file_data: { [key]: 'files/abc' } }] }] });
      expect(refs, key).toEqual([{ kind: 'file', id: 'abc' }]);
    }
    for (const key of ['file', 'fileUris', 'mimeType', 'uri', 'profileUri']) expect(isGeminiFileUriKey(key), key).toBe(false);
  });

  it('encoded, padded and upper-case spellings of a file resolve to the file they name', () => {
    const spellings = [
      'files/abc', ' files/abc', 'files/abc\\n', '\\tfiles/abc ', 'files%2Fabc', 'files%2fabc', 'files%252Fabc', 'FILES/ABC', 'Files/abc',
      'https://generativelanguage.googleapis.com/v1beta/files/abc', 'https://generativelanguage.googleapis.com/v1beta/files%2Fabc',
      'https%3A%2F%2Fgenerativelanguage.googleapis.com%2Fv1beta%2Ffiles%2Fabc', 'HTTPS://GenerativeLanguage.GoogleAPIs.com/V1BETA/FILES/ABC',
      'http://generativelanguage.googleapis.com/v1/files/abc', 'https://generativelanguage.googleapis.com:443/v1alpha/files/abc',
      ' https://generativelanguage.googleapis.com/v1beta/files/abc', '%20files/abc', 'https://generativelanguage%2Egoogleapis.com/v1beta/files/abc',
    ];
    for (const s of spellings) expect(geminiFileReference(JSON.parse(`"${s}"`) as string), s).toEqual({ id: 'abc' });
  });

  it('what names Google’s API but is not exactly one file is unreadable (refused)', () => {
    const refused = [
      'files/abc?alt=media', 'files/abc:download', '/v1beta/files/abc', 'v1beta/files/abc', 'files/../files/abc', 'files/abc/x',
      'generativelanguage.googleapis.com/v1beta/files/abc', '//generativelanguage.googleapis.com/v1beta/files/abc',
      'https://generativelanguage.googleapis.com/v1beta/files/x/../abc', 'https://generativelanguage.googleapis.com./v1beta/files/abc',
      'https://user@generativelanguage.googleapis.com/v1beta/files/abc', 'https://generativelanguage.googleapis.com/v1beta/cachedContents/abc',
      'https://evil.example\\\\@generativelanguage.googleapis.com/v1beta/files/abc',
      'https://generativelanguage.clients6.google.com/v1beta/files/abc', 'https://x.googleapis.com/files/abc',
      'files%2', 'files%ZZabc', 'https://example.com/files/report.pdf', 'https://gateway.example/v1beta/files/abc?alt=media', 'files%25252525Fabc', 'abc', 'files/', 'data:text/plain,files/abc', 'files:abc',
    ];
    for (const s of refused) expect(geminiFileReference(JSON.parse(`"${s}"`) as string), s).toBe('unreadable');
  });

  it('a URI on another host whose path ends in /files/<id> is checked as that file (a gateway in front of Gemini)', () => {
    expect(geminiFileReference('http://127.0.0.1:8080/gemini/v1beta/files/abc')).toEqual({ id: 'abc' });
    expect(geminiFileReference('https://gateway.example/v1beta/files%2Fabc')).toEqual({ id: 'abc' });
  });

  it('YouTube, public web and Cloud Storage URIs are no one’s file', () => {
    for (const s of ['https://www.youtube.com/watch?v=abc', 'https://youtu.be/abc', 'gs://bucket/video.mp4', 'https://storage.googleapis.com/bucket/a.pdf', 'https://example.com/a%20b.pdf']) {
      expect(geminiFileReference(s), s).toBe('external');
    }
  });
});
