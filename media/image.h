// Image: checks an uploaded image, re-encodes it without metadata and makes its thumbnail (issue 17).
//
// ProcessImage is the whole intake of one upload, in the order of the checks below; ingress maps each
// failure's name to an HTTP status (415, 413 or 400) and stores nothing unless it succeeds.
//   unsupported_type  the declared type is not image/png, image/jpeg, image/gif or image/webp
//   empty_body        no bytes
//   too_large         more than ImageLimits::max_bytes
//   type_mismatch     the bytes' magic number is not the declared type (a lying Content-Type, a text file)
//   too_many_pixels   the header says more than max_pixels (width x height x frames): a decompression bomb,
//                     refused from the header alone, before a pixel is decoded
//   bad_image         libvips cannot decode every pixel: truncated, corrupt; or a GIF whose blocks do not
//                     run to its trailer (libvips takes a GIF cut after a frame for a shorter animation)
// Only the loader of the declared (and sniffed) format is ever called, never libvips' guessing one, and
// libvips' untrusted loaders (ImageMagick, ...) are blocked.
//
// What comes out (ProcessedImage):
//   - the same type as the input: Debian's libvips 8.14 saves all four (GIF through cgif), so the type
//     never changes. PNG is re-encoded losslessly; JPEG and WebP at quality 85 (WebP always lossy: 8.14
//     does not say whether the input was lossless); GIF re-quantised by cgif. An animated GIF or WebP
//     keeps all its frames and their delays; `height` is then one frame's.
//   - the pixels decoded in full: the re-encode reads every pixel with fail_on=error, so a truncated or
//     corrupt file fails there (libvips is lazy: a header that parses proves nothing).
//   - the EXIF orientation applied first (a phone photo shows the right way up), then every metadata
//     block stripped on save: EXIF (GPS included), XMP, IPTC, ICC profile, comments (WebP through
//     libwebpmux: libvips 8.14.1's WebP saver ignores `strip`, libvips issue 3340). An image with an
//     ICC profile is converted to sRGB before its profile goes, so its colours stay right. Animations
//     are not rotated (libvips rotates the strip of frames as one image); they rarely carry EXIF.
//   - a thumbnail, made from the re-encoded image: WebP (quality 75), because it keeps transparency
//     (PNG, GIF) and takes about half the bytes of a JPEG at the same quality; every browser shows
//     it. Its longer side is at most thumbnail_size, never upscaled, and only the first frame of an animation.
//     When the image is already that small and its re-encode is no bigger than the WebP, the thumbnail
//     is the image itself (same bytes, its own type): a thumbnail is never larger than the image.
//
// Memory: pixels stream from the decoder to the encoder in strips, except when the image must be rotated
// (orientation 2-8), which needs the whole decoded image in memory: at most max_pixels x bands bytes
// (160 MB for 40 MP RGBA; a 12 MP phone photo takes 36 MB).
//
// libvips is initialised once, on the first call, with its operation cache off (nothing is ever
// processed twice) and one worker thread per call (vips_concurrency_set(1)): the callers' WorkPool gives
// the parallelism. That is the only global state. ProcessImage is thread-safe, blocking and CPU-bound:
// run it on a WorkPool, never on an event loop. A failure's detail carries libvips' message, which may
// mix in the text of a call failing at the same time on another thread (libvips keeps one error buffer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace chatpipe {

enum class ImageType { kPng, kJpeg, kGif, kWebp };

// The type of a Content-Type: "image/png", "image/jpeg", "image/gif" or "image/webp", case-insensitive,
// parameters (";charset=...") and surrounding spaces ignored; nullopt for anything else.
std::optional<ImageType> ImageTypeFromMime(std::string_view mime);
// "image/png", "image/jpeg", "image/gif" or "image/webp".
std::string_view MimeOf(ImageType type);
// The type the magic number at the start of `bytes` says, or nullopt: nothing beyond it is checked.
std::optional<ImageType> SniffImageType(std::string_view bytes);

struct ImageLimits {
  size_t max_bytes = 5 << 20;        // larger: too_large
  uint64_t max_pixels = 40'000'000;  // width x height x frames, from the header: larger, too_many_pixels
  int thumbnail_size = 320;          // the thumbnail's longer side at most
};

struct ProcessedImage {
  ImageType type;             // of `bytes`: always the input's type
  std::string bytes;          // the image re-encoded without any metadata
  int width = 0, height = 0;  // of `bytes` (one frame's), after the EXIF orientation was applied
  std::string thumbnail;      // longer side <= thumbnail_size, never upscaled
  std::string thumbnail_mime; // image/webp, or MimeOf(type) when the thumbnail is `bytes` itself
  int thumbnail_width = 0, thumbnail_height = 0;
};

// Checks and re-encodes one uploaded image (see the top of this file). Thread-safe; blocking.
Result<ProcessedImage> ProcessImage(std::string_view bytes, std::string_view declared_mime,
                                    const ImageLimits& limits);

}  // namespace chatpipe
