// Images the user attaches, before the server sees them: which files may be sent (the server checks
// the bytes themselves; this only spares a pointless upload and says why at once), how their size
// reads, which of a drop's or a paste's files is the image, and the size a thumbnail takes in the log.

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024; // the server's default limit
export const THUMB_BOX = { width: 320, height: 240 }; // a thumbnail in the log fits in this, in CSS px

// What the client knows of a file (a File, or anything shaped like one).
export interface FileFacts {
  name: string;
  type: string;
  size: number;
}

// 1536 -> "1.5 KB"; 5 MiB -> "5.0 MB".
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

// Null when the file may be uploaded, else why not, in words for the user.
export function imageProblem(file: FileFacts): string | null {
  if (!(IMAGE_TYPES as readonly string[]).includes(file.type))
    return `${file.name} is not a PNG, JPEG, GIF or WebP image`;
  if (file.size === 0) return `${file.name} is empty`;
  if (file.size > MAX_IMAGE_BYTES)
    return `${file.name} is ${formatBytes(file.size)}; images may be at most ${formatBytes(MAX_IMAGE_BYTES)}`;
  return null;
}

// The file to attach from a drop or a paste: the first image among them, else the first file (so
// that dropping a PDF says why it is refused rather than doing nothing); undefined when there is none.
export function pickFile<F extends FileFacts>(files: ArrayLike<F>): F | undefined {
  const list = Array.from(files);
  return list.find((f) => f.type.startsWith('image/')) ?? list[0];
}

// The size a width x height image is shown at in the log: scaled down (never up) to fit `box`,
// keeping its shape; at least 1 px each way. Set as the <img>'s width and height, the space is held
// before the thumbnail loads, so the log does not jump.
export function fitWithin(width: number, height: number, box = THUMB_BOX): { width: number; height: number } {
  if (!(width > 0 && height > 0)) return { width: box.width, height: box.height };
  const scale = Math.min(1, box.width / width, box.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}
