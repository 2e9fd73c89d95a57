// Writes precompressed copies (.gz and .br) beside every text file of the build that compression
// shrinks, so ingress can serve them as they are (see ingress/static_files.h) instead of
// compressing on each request. Usage: node scripts/compress.mjs DIR
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const COMPRESSIBLE = /\.(html|js|mjs|css|svg|json|txt|map|webmanifest)$/;
const MIN_BYTES = 512; // below this the headers cost more than compression saves

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

const root = process.argv[2];
if (!root) {
  console.error('usage: node scripts/compress.mjs DIR');
  process.exit(2);
}
let written = 0;
for (const path of files(root)) {
  if (!COMPRESSIBLE.test(path)) continue;
  const body = readFileSync(path);
  if (body.length < MIN_BYTES) continue;
  const variants = {
    '.gz': gzipSync(body, { level: 9 }),
    '.br': brotliCompressSync(body, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      },
    }),
  };
  for (const [suffix, packed] of Object.entries(variants)) {
    if (packed.length >= body.length * 0.95) continue; // not worth a variant
    writeFileSync(path + suffix, packed);
    written++;
  }
}
console.log(`compress: wrote ${written} precompressed files under ${root}`);
