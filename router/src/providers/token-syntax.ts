import type { SubjectSyntax } from './provider.js';

/**
 * The subject-token rule every provider here applies to the values clients put into
 * subjects: 1 to 128 ASCII letters, digits or `- _ ~ : @ + = %`, in a subject of at most
 * 255 bytes. It keeps out every broker's separators and wildcards (NATS `.` `*` `>`, Redis
 * patterns `* ? [ ] \`, AMQP `.` `*` `#`), white space and control characters, so a
 * template means the same subjects whichever provider carries it. Each provider states why
 * it suits its broker; one with another rule defines its own `SubjectSyntax`.
 */
export const PORTABLE_TOKEN_SYNTAX: SubjectSyntax = {
  isToken: (value) => TOKEN.test(value),
  tokenRule: '1 to 128 ASCII letters, digits or - _ ~ : @ + = %',
  maxSubjectBytes: 255,
};

const TOKEN = /^[A-Za-z0-9_~:@+=%-]{1,128}$/;
