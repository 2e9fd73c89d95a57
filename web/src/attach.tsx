// The image the user is about to send: chosen with the Attach button, dropped on the room or pasted.
// It is checked here first (type, size: media.ts), previewed from a local blob: URL, and uploaded
// when the message is sent, with a progress bar; the message goes out only once the upload is
// stored. A refusal (here or by the server) is shown beside the preview; Send tries again, Remove
// gives up.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type UploadTask } from './api';
import type { ChatClient } from './client';
import { formatBytes, imageProblem, IMAGE_TYPES } from './media';
import type { Upload } from './types';

export interface Attachment {
  file: File;
  preview: string; // a blob: URL of the file
  progress: number | null; // 0..1 while uploading
  error?: string;
  retryable?: boolean; // the error was passing (the network, the server busy): Send tries again
  broken?: boolean; // the browser cannot show it (the server will say why it refuses it)
}

// A refusal of these bytes stays a refusal; a lost connection or a busy server may not.
function passing(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 0 || e.status === 429 || e.status >= 500);
}

export interface AttachmentControl {
  attachment: Attachment | null;
  refusal: string | null; // why the last file offered was not attached
  attach(file: File): void;
  remove(): void;
  previewFailed(): void;
  // Uploads the attachment; the upload, or null when it failed (the error is shown) or was removed.
  upload(): Promise<Upload | null>;
}

export function useAttachment(client: ChatClient): AttachmentControl {
  const [attachment, setAttachment] = useState<Attachment | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const task = useRef<UploadTask | null>(null);
  const current = useRef<Attachment | null>(null);
  current.current = attachment;

  // A preview's URL lives as long as its attachment; an upload under way ends with the component.
  useEffect(() => {
    const preview = attachment?.preview;
    return () => {
      if (preview) URL.revokeObjectURL(preview);
    };
  }, [attachment?.preview]);
  useEffect(() => () => task.current?.abort(), []);

  const update = (file: File, change: Partial<Attachment>) =>
    setAttachment((a) => (a && a.file === file ? { ...a, ...change } : a));

  return {
    attachment,
    refusal,
    attach(file) {
      const problem = imageProblem(file);
      if (problem) return setRefusal(problem);
      task.current?.abort();
      setRefusal(null);
      setAttachment({ file, preview: URL.createObjectURL(file), progress: null });
    },
    remove() {
      task.current?.abort();
      setAttachment(null);
      setRefusal(null);
    },
    previewFailed() {
      if (current.current) update(current.current.file, { broken: true });
    },
    async upload() {
      const a = current.current;
      if (!a || a.progress !== null) return null;
      const started = client.uploadImage(a.file, (progress) => update(a.file, { progress }));
      if (!started) return null;
      task.current = started;
      update(a.file, { progress: 0, error: undefined });
      try {
        const upload = await started.done;
        update(a.file, { progress: 1 });
        return current.current?.file === a.file ? upload : null;
      } catch (e) {
        update(a.file, { progress: null, error: (e as Error).message, retryable: passing(e) });
        return null;
      } finally {
        if (task.current === started) task.current = null;
      }
    },
  };
}

// The Attach button and its hidden file input.
export function AttachButton({ control, disabled }: { control: AttachmentControl; disabled: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button type="button" class="attach" onClick={() => input.current?.click()} disabled={disabled} aria-label="Attach an image" title="Attach an image">
        <svg aria-hidden="true" viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
          <rect x="3" y="4" width="18" height="16" rx="2" />
          <circle cx="8.5" cy="9.5" r="1.5" />
          <path d="M21 16l-5-5L5 20" />
        </svg>
      </button>
      <input
        ref={input}
        type="file"
        class="visually-hidden"
        tabIndex={-1}
        aria-hidden="true"
        accept={IMAGE_TYPES.join(',')}
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          e.currentTarget.value = ''; // choosing the same file again is a change too
          if (file) control.attach(file);
        }}
      />
    </>
  );
}

// The preview above the text box: the image, its name and size, the upload's progress or why it
// failed, and Remove.
export function AttachmentPreview({ control }: { control: AttachmentControl }) {
  const { attachment: a, refusal } = control;
  if (!a && !refusal) return null;
  return (
    <div class="attachment-row">
      {a && (
        <figure class="attachment" data-state={a.error ? 'failed' : a.progress !== null ? 'uploading' : 'ready'}>
          {a.broken ? (
            <span class="attachment-nopreview hint">no preview</span>
          ) : (
            <img src={a.preview} alt={`Preview of ${a.file.name}`} onError={control.previewFailed} />
          )}
          <figcaption>
            <span class="attachment-name">{a.file.name}</span> <span class="hint">{formatBytes(a.file.size)}</span>
            {a.progress !== null && (
              <progress max={1} value={a.progress} aria-label={`Uploading ${a.file.name}`}>
                {Math.round(a.progress * 100)}%
              </progress>
            )}
            {a.error && (
              <span class="error" role="alert">
                Upload failed: {a.error}. {a.retryable ? 'Send to try again, or remove it.' : 'Remove it to attach another.'}
              </span>
            )}
          </figcaption>
          <button type="button" class="link remove" onClick={control.remove} aria-label={`Remove ${a.file.name}`}>
            Remove
          </button>
        </figure>
      )}
      {refusal && (
        <p class="error attach-refusal" role="alert">
          Not attached: {refusal}.
        </p>
      )}
    </div>
  );
}
