import type { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { BlobBackend, ByteRange } from './backend.js';
import { loadOnFirstUse } from '../../shared/load-on-first-use.js';
import { assertBlobKey } from './keys.js';

// Any S3-compatible store (AWS S3, MinIO, R2, …) through the AWS SDK v3. Objects are stored as
// `<prefix>objects/<key>`, the key made by the server; a PUT (or a multipart upload's completion)
// is atomic in S3, so nothing is visible under a key until the whole body is there, and a failed
// multipart upload is aborted. lib-storage streams the body in parts: memory is parts in flight
// (PART_BYTES × QUEUE_SIZE), whatever the object's size.

export interface S3BackendOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** MinIO and most self-hosted stores need path-style URLs. */
  forcePathStyle: boolean;
  prefix?: string;
}

/** S3's smallest part size. */
const PART_BYTES = 5 * 1024 * 1024;
const QUEUE_SIZE = 2;

/**
 * The AWS SDK loads on the first object operation, not at start: it is the largest module tree
 * Gatehouse has, and a server on the local disk never needs it (docs/operations.md, start-up).
 */
async function loadSdk(options: S3BackendOptions) {
  const [{ CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, S3Client }, { Upload }] = await Promise.all([
    import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage'),
  ]);
  const client: S3Client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.accessKeyId && options.secretAccessKey ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } } : {}),
    // Checksums only where S3 requires them: self-hosted stores often lack the newer ones, and the
    // ETag of every object is our own SHA-256 anyway.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { client, CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, Upload };
}

export function createS3Backend(options: S3BackendOptions): BlobBackend {
  // One load and one client however many first operations race; a failed load is tried again.
  const sdk = loadOnFirstUse(() => loadSdk(options));
  const Bucket = options.bucket;
  const keyOf = (key: string) => `${options.prefix ?? ''}objects/${assertBlobKey(key)}`;

  return {
    kind: 's3',
    async put(key, body, contentType) {
      const { client, Upload } = await sdk();
      const upload = new Upload({
        client,
        params: { Bucket, Key: keyOf(key), Body: body, ContentType: contentType },
        partSize: PART_BYTES,
        queueSize: QUEUE_SIZE,
        leavePartsOnError: false,
      });
      // A body that fails (413, client gone) must also stop the upload, which is then aborted.
      const onError = (error: Error) => { void upload.abort().catch(() => undefined); return error; };
      body.once('error', onError);
      try {
        await upload.done();
      } finally {
        body.off('error', onError);
      }
    },
    async get(key, range?: ByteRange) {
      const { client, GetObjectCommand } = await sdk();
      const result = await client.send(new GetObjectCommand({ Bucket, Key: keyOf(key), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
      if (!(result.Body instanceof Readable)) throw new Error('storage: S3 returned no stream');
      return result.Body;
    },
    async copy(fromKey, toKey) {
      const { client, CopyObjectCommand } = await sdk();
      await client.send(new CopyObjectCommand({ Bucket, Key: keyOf(toKey), CopySource: `${Bucket}/${keyOf(fromKey)}` }));
    },
    async remove(key) {
      const { client, DeleteObjectCommand } = await sdk();
      await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(key) }));
    },
    async close() {
      const loading = sdk.started();
      if (loading) (await loading.catch(() => null))?.client.destroy();
    },
  };
}
