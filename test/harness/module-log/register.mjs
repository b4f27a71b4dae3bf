// `node --import <this file>`: appends every module URL the process resolves to the file named by
// TEST_MODULE_LOG_FILE, one a line (test/chassis/lazy-start-up.test.ts). Plain JS: the child
// runs the built server, without tsx.
import { register } from 'node:module';

register(new URL('./hooks.mjs', import.meta.url));
