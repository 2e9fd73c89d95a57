// Images and audio in the log: an image message's thumbnail (sized from its frame before it loads,
// so the log does not jump) that opens the full image in a modal dialog, and each message's play
// button. A private room's objects need the token, so they are fetched and shown through blob: URLs,
// revoked when no longer shown; a public room's are plain URLs the browser (or a CDN) caches.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from './api';
import type { ChatClient } from './client';
import { fitWithin, formatBytes } from './media';
import type { ImageInfo } from './types';

// The src to show `url` by: itself in a public room, a blob: URL of it fetched with the token in a
// private one (undefined until fetched), or why it could not be fetched.
export function useObjectUrl(api: Api, url: string | undefined, isPrivate: boolean): { src?: string; error?: string } {
  const [state, setState] = useState<{ src?: string; error?: string }>(url && !isPrivate ? { src: url } : {});
  useEffect(() => {
    if (!url || !isPrivate) {
      setState((s) => (s.src === url && !s.error ? s : url ? { src: url } : {}));
      return;
    }
    let live = true;
    let made: string | undefined;
    setState({});
    api.object(url).then(
      (blob) => {
        if (!live) return;
        made = URL.createObjectURL(blob);
        setState({ src: made });
      },
      (e: Error) => live && setState({ error: e.message }),
    );
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [api, url, isPrivate]);
  return state;
}

function altText(image: ImageInfo, caption: string, author: string): string {
  return caption.trim() ? `Image: ${caption.trim()}` : `Image from ${author}, ${image.width}×${image.height}`;
}

export function ImageMessage({
  image,
  caption,
  author,
  client,
  isPrivate,
}: {
  image: ImageInfo;
  caption: string;
  author: string;
  client: ChatClient;
  isPrivate: boolean;
}) {
  const [open, setOpen] = useState(false);
  const thumb = useObjectUrl(client.api, image.thumbnail_url, isPrivate);
  const size = fitWithin(image.width, image.height);
  const alt = altText(image, caption, author);
  return (
    <div class="image">
      <button
        type="button"
        class="image-open"
        onClick={() => setOpen(true)}
        aria-label={`Open the full image (${image.width}×${image.height}, ${formatBytes(image.bytes)})`}
      >
        {thumb.src ? (
          <img class="thumb" src={thumb.src} width={size.width} height={size.height} loading="lazy" decoding="async" alt={alt} />
        ) : (
          <span class="thumb thumb-waiting" style={{ width: `${size.width}px`, height: `${size.height}px` }} />
        )}
      </button>
      {thumb.error && (
        <p class="error" role="alert">
          The image could not be loaded: {thumb.error}
        </p>
      )}
      {open && <Lightbox image={image} alt={alt} caption={caption} client={client} isPrivate={isPrivate} onClose={() => setOpen(false)} />}
    </div>
  );
}

// The full image in a modal <dialog>: Escape, a click anywhere or the Close button closes it, and
// the focus goes back to the thumbnail's button (the dialog element does that).
function Lightbox({
  image,
  alt,
  caption,
  client,
  isPrivate,
  onClose,
}: {
  image: ImageInfo;
  alt: string;
  caption: string;
  client: ChatClient;
  isPrivate: boolean;
  onClose(): void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const full = useObjectUrl(client.api, image.url, isPrivate);
  useEffect(() => {
    const d = dialog.current!;
    d.showModal();
    return () => d.open && d.close();
  }, []);
  return (
    <dialog ref={dialog} class="lightbox" aria-label="Full image" onClose={onClose} onClick={() => dialog.current!.close()}>
      {full.src && <img class="full" src={full.src} width={image.width} height={image.height} alt={alt} />}
      {!full.src && !full.error && <p class="hint">Loading the image…</p>}
      {full.error && (
        <p class="error" role="alert">
          The image could not be loaded: {full.error}
        </p>
      )}
      <p class="lightbox-bar">
        {caption.trim() && <span class="lightbox-caption">{caption}</span>}
        <span class="hint">
          {image.width}×{image.height}, {formatBytes(image.bytes)}
        </span>
        <button type="button">
          Close
        </button>
      </p>
    </dialog>
  );
}

// Listen to a message: asks the server for its audio once, plays it when it is ready (at once, or
// when the speech frame comes), and replays it from the same URL after that.
export function PlayButton({ messageId, client, isPrivate }: { messageId: string; client: ChatClient; isPrivate: boolean }) {
  const speech = client.speech;
  const [, rerender] = useState(0);
  useEffect(() => speech.subscribe(messageId, () => rerender((n) => n + 1)), [speech, messageId]);
  const state = speech.get(messageId);
  const audio = useRef<HTMLAudioElement>(null);
  const wanted = useRef(false); // clicked, to play as soon as the audio is there
  const [playing, setPlaying] = useState(false);
  const [playError, setPlayError] = useState<string | null>(null);
  const source = useObjectUrl(client.api, state?.status === 'ready' ? state.url : undefined, isPrivate);

  const play = () => {
    const el = audio.current!;
    el.currentTime = 0;
    setPlayError(null);
    el.play().catch((e: Error) => setPlayError(e.message));
  };
  useEffect(() => {
    if (wanted.current && source.src && audio.current) {
      wanted.current = false;
      play();
    }
  }, [source.src]);

  const onClick = () => {
    if (playing) return audio.current!.pause();
    if (source.src && audio.current) return play();
    wanted.current = true;
    void client.speak(messageId);
  };
  const waiting = state?.status === 'requesting' || state?.status === 'pending' || (state?.status === 'ready' && !source.src && !source.error);
  const error = state?.status === 'failed' ? state.error : (source.error ?? playError);
  return (
    <span class="speech" data-speech={state?.status ?? 'none'}>
      <button
        type="button"
        class="play"
        onClick={onClick}
        aria-label={playing ? 'Stop listening' : 'Listen to this message'}
        aria-busy={waiting}
        title={playing ? 'Stop' : 'Listen'}
      >
        <span aria-hidden="true">{playing ? '■' : '▶'}</span>
      </button>
      {waiting && <span class="hint speech-wait">preparing audio…</span>}
      {error && (
        <span class="error" role="alert">
          Cannot play: {error}
        </span>
      )}
      {source.src && (
        <audio
          ref={audio}
          src={source.src}
          preload="auto"
          onPlay={() => setPlaying(true)}
          onPause={() => setPlaying(false)}
          onEnded={() => setPlaying(false)}
          onError={() => setPlayError('the audio could not be decoded')}
        />
      )}
    </span>
  );
}
