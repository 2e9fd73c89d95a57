// Fixtures are made here with libvips itself (gradients saved in each format, EXIF and XMP blobs set
// before saving), and the bombs by hand: no committed image files.
#include "media/image.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <vips/vips.h>
#include <zlib.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace chatpipe {
namespace {

struct Unref {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using ImagePtr = std::unique_ptr<VipsImage, Unref>;

class ImageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_EQ(VIPS_INIT("image_test"), 0); }
};

// A w x h sRGB image: red grows left to right, green top to bottom; `bright_right` lifts the right half.
ImagePtr Gradient(int w, int h, bool bright_right = false) {
  VipsImage *xyz, *scaled, *rgb, *bytes, *out;
  double a[] = {200.0 / w, 200.0 / h}, b[] = {0, 0};
  EXPECT_EQ(vips_xyz(&xyz, w, h, nullptr), 0);
  EXPECT_EQ(vips_linear(xyz, &scaled, a, b, 2, nullptr), 0);
  EXPECT_EQ(vips_bandjoin_const1(scaled, &rgb, 60, nullptr), 0);
  if (bright_right) {
    VipsImage *mask, *lifted;
    EXPECT_EQ(vips_black(&mask, w, h, nullptr), 0);
    EXPECT_EQ(vips_draw_rect1(mask, 255, w / 2, 0, w - w / 2, h, "fill", TRUE, nullptr), 0);
    EXPECT_EQ(vips_add(rgb, mask, &lifted, nullptr), 0);
    g_object_unref(rgb);
    g_object_unref(mask);
    rgb = lifted;
  }
  EXPECT_EQ(vips_cast_uchar(rgb, &bytes, nullptr), 0);
  EXPECT_EQ(vips_copy(bytes, &out, "interpretation", VIPS_INTERPRETATION_sRGB, nullptr), 0);
  for (VipsImage* i : {xyz, scaled, rgb, bytes}) g_object_unref(i);
  return ImagePtr(out);
}

// A copy of `image` whose pixels are in memory: fields can then be set on it freely before saving.
ImagePtr Copy(VipsImage* image) { return ImagePtr(vips_image_copy_memory(image)); }

// `image` saved as `type`, metadata kept.
std::string Encode(VipsImage* image, ImageType type) {
  void* buffer = nullptr;
  size_t size = 0;
  int rc = -1;
  switch (type) {
    case ImageType::kPng: rc = vips_pngsave_buffer(image, &buffer, &size, nullptr); break;
    case ImageType::kJpeg: rc = vips_jpegsave_buffer(image, &buffer, &size, nullptr); break;
    case ImageType::kGif: rc = vips_gifsave_buffer(image, &buffer, &size, nullptr); break;
    case ImageType::kWebp: rc = vips_webpsave_buffer(image, &buffer, &size, nullptr); break;
  }
  EXPECT_EQ(rc, 0) << vips_error_buffer();
  std::string bytes(static_cast<const char*>(buffer), size);
  g_free(buffer);
  return bytes;
}

std::string Encode(int w, int h, ImageType type) { return Encode(Gradient(w, h).get(), type); }

// Decodes `bytes` fully (all frames of a GIF or WebP) with libvips; null if it cannot.
ImagePtr Decode(const std::string& bytes) {
  const std::optional<ImageType> type = SniffImageType(bytes);
  const bool frames = type == ImageType::kGif || type == ImageType::kWebp;
  VipsImage* image = vips_image_new_from_buffer(bytes.data(), bytes.size(), frames ? "n=-1" : "", nullptr);
  if (!image) return nullptr;
  double mean;
  if (vips_avg(image, &mean, nullptr) != 0) {
    g_object_unref(image);
    return nullptr;
  }
  return ImagePtr(image);
}

bool Has(VipsImage* image, const char* field) { return vips_image_get_typeof(image, field) != 0; }

// Whether `image` has a field whose name starts with `prefix` ("png-comment-": their numbers count every
// text chunk of the file).
bool HasPrefixed(VipsImage* image, std::string_view prefix) {
  char** fields = vips_image_get_fields(image);
  bool found = false;
  for (char** f = fields; *f; ++f) found |= std::string_view(*f).substr(0, prefix.size()) == prefix;
  g_strfreev(fields);
  return found;
}

// An EXIF block ("Exif\0\0" and a little-endian TIFF): IFD0 with Orientation and a GPS IFD with
// GPSVersionID, GPSLatitudeRef "N" and GPSLatitude 51/1 30/1 0/1.
std::string ExifBlob(int orientation) {
  std::string b("Exif\0\0", 6);
  auto u16 = [&](int v) { b += char(v & 0xff), b += char(v >> 8 & 0xff); };
  auto u32 = [&](uint32_t v) { u16(v & 0xffff), u16(v >> 16); };
  auto entry = [&](int tag, int type, uint32_t count, uint32_t value) { u16(tag), u16(type), u32(count), u32(value); };
  b += "II", u16(42), u32(8);  // TIFF offsets count from here (byte 6)
  u16(2);                      // IFD0 at 8: 2 entries, ends at 38
  entry(0x0112, 3, 1, orientation);
  entry(0x8825, 4, 1, 38);  // the GPS IFD
  u32(0);
  u16(3);  // GPS IFD at 38: 3 entries, ends at 80
  entry(0x0000, 1, 4, 0x00000202);
  entry(0x0001, 2, 2, 'N');
  entry(0x0002, 5, 3, 80);
  u32(0);
  for (uint32_t v : {51, 1, 30, 1, 0, 1}) u32(v);  // GPSLatitude at 80
  return b;
}

// The GPSLatitude rationals as they sit in the block.
const std::string kLatitudeBytes("\x33\0\0\0\x01\0\0\0\x1e\0\0\0\x01\0\0\0", 16);

// A w x h image with EXIF (orientation, GPS), XMP and a comment (PNG writes it as a zTXt chunk) set,
// saved as `type`.
std::string WithMetadata(int w, int h, ImageType type, int orientation = 1) {
  ImagePtr image = Copy(Gradient(w, h, true).get());
  const std::string exif = ExifBlob(orientation);
  const std::string xmp = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF/></x:xmpmeta>";
  vips_image_set_blob_copy(image.get(), VIPS_META_EXIF_NAME, exif.data(), exif.size());
  vips_image_set_blob_copy(image.get(), VIPS_META_XMP_NAME, xmp.data(), xmp.size());
  vips_image_set_string(image.get(), "png-comment-0-Comment", "taken at home");
  vips_image_set_int(image.get(), VIPS_META_ORIENTATION, orientation);  // libvips rewrites the tag from this
  return Encode(image.get(), type);
}

// `frames` frames of w x h stacked as one animation, saved as `type`.
std::string Animation(int w, int h, int frames, ImageType type) {
  ImagePtr image = Copy(Gradient(w, h * frames).get());
  vips_image_set_int(image.get(), VIPS_META_PAGE_HEIGHT, h);
  std::vector<int> delays(frames, 100);
  vips_image_set_array_int(image.get(), "delay", delays.data(), frames);
  vips_image_set_int(image.get(), "loop", 0);
  return Encode(image.get(), type);
}

const ImageLimits kDefaults;

Status Refusal(const std::string& bytes, std::string_view mime, const ImageLimits& limits = kDefaults) {
  Result<ProcessedImage> r = ProcessImage(bytes, mime, limits);
  EXPECT_FALSE(r.ok()) << "accepted " << mime;
  return r.status();
}

constexpr ImageType kAllTypes[] = {ImageType::kPng, ImageType::kJpeg, ImageType::kGif, ImageType::kWebp};

TEST_F(ImageTest, MimeTypes) {
  EXPECT_EQ(ImageTypeFromMime("image/png"), ImageType::kPng);
  EXPECT_EQ(ImageTypeFromMime("IMAGE/JPEG"), ImageType::kJpeg);
  EXPECT_EQ(ImageTypeFromMime(" image/gif ; charset=binary"), ImageType::kGif);
  EXPECT_EQ(ImageTypeFromMime("image/WebP;q=1"), ImageType::kWebp);
  for (const char* other : {"", "image/jpg", "image/png2", "image", "text/plain", "image/svg+xml", "image/bmp"})
    EXPECT_EQ(ImageTypeFromMime(other), std::nullopt) << other;
  for (ImageType type : kAllTypes) EXPECT_EQ(ImageTypeFromMime(MimeOf(type)), type);
}

TEST_F(ImageTest, SniffsMagicNumbers) {
  for (ImageType type : kAllTypes) EXPECT_EQ(SniffImageType(Encode(8, 8, type)), type) << MimeOf(type);
  for (const char* other : {"", "hello, world", "\x89PNG", "\xff\xd8", "GIF88a", "RIFF\0\0\0\0WAVE", "RIFF"})
    EXPECT_EQ(SniffImageType(other), std::nullopt) << other;
}

TEST_F(ImageTest, ReencodesEachTypeWithAThumbnail) {
  for (ImageType type : kAllTypes) {
    SCOPED_TRACE(MimeOf(type));
    Result<ProcessedImage> r = ProcessImage(Encode(800, 600, type), MimeOf(type), kDefaults);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->type, type);
    EXPECT_EQ(SniffImageType(r->bytes), type);
    EXPECT_EQ(r->width, 800);
    EXPECT_EQ(r->height, 600);
    ImagePtr out = Decode(r->bytes);
    ASSERT_TRUE(out);
    EXPECT_EQ(vips_image_get_width(out.get()), 800);
    EXPECT_EQ(vips_image_get_height(out.get()), 600);

    EXPECT_EQ(r->thumbnail_mime, "image/webp");
    EXPECT_EQ(r->thumbnail_width, 320);
    EXPECT_EQ(r->thumbnail_height, 240);
    ImagePtr thumb = Decode(r->thumbnail);
    ASSERT_TRUE(thumb);
    EXPECT_EQ(vips_image_get_width(thumb.get()), 320);
    EXPECT_EQ(vips_image_get_height(thumb.get()), 240);
  }
}

TEST_F(ImageTest, StripsExifGpsXmpAndComments) {
  for (ImageType type : {ImageType::kJpeg, ImageType::kPng, ImageType::kWebp}) {
    SCOPED_TRACE(MimeOf(type));
    const std::string input = WithMetadata(200, 100, type);
    ImagePtr fixture = Decode(input);  // the fixture really carries what must go
    ASSERT_TRUE(fixture);
    ASSERT_TRUE(Has(fixture.get(), VIPS_META_EXIF_NAME));
    ASSERT_TRUE(Has(fixture.get(), "exif-ifd3-GPSLatitude"));
    ASSERT_TRUE(Has(fixture.get(), VIPS_META_XMP_NAME));
    ASSERT_NE(input.find(kLatitudeBytes), std::string::npos);
    if (type != ImageType::kPng) {  // PNG's eXIf chunk has no "Exif" prefix
      ASSERT_NE(input.find("Exif"), std::string::npos);
    } else {
      ASSERT_TRUE(HasPrefixed(fixture.get(), "png-comment-"));
    }

    Result<ProcessedImage> r = ProcessImage(input, MimeOf(type), kDefaults);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const std::string* bytes : {&r->bytes, &r->thumbnail}) {
      ImagePtr out = Decode(*bytes);
      ASSERT_TRUE(out);
      for (const char* field : {VIPS_META_EXIF_NAME, VIPS_META_XMP_NAME, VIPS_META_IPTC_NAME, VIPS_META_ICC_NAME,
                                "exif-ifd3-GPSLatitude"})
        EXPECT_FALSE(Has(out.get(), field)) << field;
      EXPECT_FALSE(HasPrefixed(out.get(), "png-comment-"));
      EXPECT_EQ(bytes->find("Exif"), std::string::npos);
      EXPECT_EQ(bytes->find("xmpmeta"), std::string::npos);
      for (const char* chunk : {"zTXt", "tEXt", "iTXt", "eXIf"}) EXPECT_EQ(bytes->find(chunk), std::string::npos);
      EXPECT_EQ(bytes->find(kLatitudeBytes), std::string::npos);
    }
    if (type == ImageType::kJpeg) {  // FF E1 can only be a marker in a JPEG: APP1, where EXIF and XMP live
      EXPECT_EQ(r->bytes.find("\xff\xe1"), std::string::npos);
    }
  }
}

TEST_F(ImageTest, ConvertsAnIccProfileToSrgbAndDropsIt) {
  ImagePtr image = Copy(Gradient(64, 64).get());
  VipsBlob* profile = nullptr;
  ASSERT_EQ(vips_profile_load("srgb", &profile, nullptr), 0);
  size_t size = 0;
  const void* data = vips_blob_get(profile, &size);
  vips_image_set_blob_copy(image.get(), VIPS_META_ICC_NAME, data, size);
  vips_area_unref(VIPS_AREA(profile));
  const std::string input = Encode(image.get(), ImageType::kJpeg);
  ASSERT_NE(input.find("ICC_PROFILE"), std::string::npos);

  Result<ProcessedImage> r = ProcessImage(input, "image/jpeg", kDefaults);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bytes.find("ICC_PROFILE"), std::string::npos);
  ImagePtr out = Decode(r->bytes);
  ASSERT_TRUE(out);
  EXPECT_FALSE(Has(out.get(), VIPS_META_ICC_NAME));
}

// The mean of the top and of the bottom half of `image`'s first band.
std::pair<double, double> TopAndBottomMeans(VipsImage* image) {
  const int w = vips_image_get_width(image), h = vips_image_get_height(image);
  double means[2];
  for (int half = 0; half < 2; ++half) {
    VipsImage* area;
    EXPECT_EQ(vips_extract_area(image, &area, 0, half * h / 2, w, h / 2, nullptr), 0);
    EXPECT_EQ(vips_avg(area, &means[half], nullptr), 0);
    g_object_unref(area);
  }
  return {means[0], means[1]};
}

TEST_F(ImageTest, AppliesTheExifOrientation) {
  // Orientation 6: the camera was turned; shown rotated 90 degrees clockwise, so the bright right half of
  // the 20x10 pixels comes out at the bottom of a 10x20 image.
  const std::string input = WithMetadata(20, 10, ImageType::kJpeg, 6);
  ImagePtr fixture = Decode(input);
  ASSERT_TRUE(fixture);
  ASSERT_EQ(vips_image_get_orientation(fixture.get()), 6);
  ASSERT_EQ(vips_image_get_width(fixture.get()), 20);

  Result<ProcessedImage> r = ProcessImage(input, "image/jpeg", kDefaults);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->width, 10);
  EXPECT_EQ(r->height, 20);
  ImagePtr out = Decode(r->bytes);
  ASSERT_TRUE(out);
  EXPECT_EQ(vips_image_get_width(out.get()), 10);
  EXPECT_EQ(vips_image_get_height(out.get()), 20);
  EXPECT_EQ(vips_image_get_orientation(out.get()), 1);
  auto [top, bottom] = TopAndBottomMeans(out.get());
  EXPECT_GT(bottom, top + 50);
  EXPECT_EQ(r->thumbnail_width, 10);
  EXPECT_EQ(r->thumbnail_height, 20);
}

TEST_F(ImageTest, ThumbnailsAreNeverUpscaledNorLargerThanTheImage) {
  Result<ProcessedImage> wide = ProcessImage(Encode(1000, 500, ImageType::kPng), "image/png", kDefaults);
  ASSERT_TRUE(wide.ok()) << wide.status().ToString();
  EXPECT_EQ(wide->thumbnail_width, 320);
  EXPECT_EQ(wide->thumbnail_height, 160);

  ImageLimits limits;
  limits.thumbnail_size = 64;
  for (ImageType type : kAllTypes) {
    SCOPED_TRACE(MimeOf(type));
    Result<ProcessedImage> small = ProcessImage(Encode(40, 20, type), MimeOf(type), limits);
    ASSERT_TRUE(small.ok()) << small.status().ToString();
    EXPECT_EQ(small->thumbnail_width, 40);
    EXPECT_EQ(small->thumbnail_height, 20);
    EXPECT_LE(small->thumbnail.size(), small->bytes.size());
    ImagePtr thumb = Decode(small->thumbnail);
    ASSERT_TRUE(thumb);
    EXPECT_EQ(vips_image_get_width(thumb.get()), 40);
    EXPECT_EQ(SniffImageType(small->thumbnail), ImageTypeFromMime(small->thumbnail_mime));
  }
}

TEST_F(ImageTest, KeepsAnimations) {
  for (ImageType type : {ImageType::kGif, ImageType::kWebp}) {
    SCOPED_TRACE(MimeOf(type));
    Result<ProcessedImage> r = ProcessImage(Animation(400, 300, 3, type), MimeOf(type), kDefaults);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->width, 400);
    EXPECT_EQ(r->height, 300);
    ImagePtr out = Decode(r->bytes);
    ASSERT_TRUE(out);
    EXPECT_EQ(vips_image_get_n_pages(out.get()), 3);
    EXPECT_EQ(vips_image_get_page_height(out.get()), 300);
    ImagePtr thumb = Decode(r->thumbnail);  // the first frame
    ASSERT_TRUE(thumb);
    EXPECT_EQ(vips_image_get_height(thumb.get()), 240);
    EXPECT_EQ(r->thumbnail_height, 240);
  }
}

TEST_F(ImageTest, RefusesWhatIsNotAnAllowedImage) {
  const std::string png = Encode(30, 20, ImageType::kPng);
  for (const char* mime : {"text/plain", "image/bmp", "image/svg+xml", "", "image/jpg"}) {
    Status s = Refusal(png, mime);
    EXPECT_EQ(s.name(), "unsupported_type") << mime;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  }
  Status lying = Refusal(png, "image/jpeg");
  EXPECT_EQ(lying.name(), "type_mismatch");
  EXPECT_EQ(lying.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Refusal(Encode(30, 20, ImageType::kWebp), "image/gif").name(), "type_mismatch");
  EXPECT_EQ(Refusal("just some text, not an image\n", "image/png").name(), "type_mismatch");
  Status empty = Refusal("", "image/png");
  EXPECT_EQ(empty.name(), "empty_body");
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
}

TEST_F(ImageTest, RefusesTooManyBytes) {
  const std::string jpeg = Encode(100, 100, ImageType::kJpeg);
  ImageLimits limits;
  limits.max_bytes = jpeg.size();
  EXPECT_TRUE(ProcessImage(jpeg, "image/jpeg", limits).ok());
  limits.max_bytes = jpeg.size() - 1;
  Status s = Refusal(jpeg, "image/jpeg", limits);
  EXPECT_EQ(s.name(), "too_large");
  EXPECT_EQ(s.code(), StatusCode::kTooLarge);
}

TEST_F(ImageTest, RefusesTruncatedAndCorruptImages) {
  for (ImageType type : kAllTypes) {
    SCOPED_TRACE(MimeOf(type));
    const std::string whole = Encode(Copy(Gradient(300, 200, true).get()).get(), type);
    ASSERT_TRUE(ProcessImage(whole, MimeOf(type), kDefaults).ok());
    Status s = Refusal(whole.substr(0, whole.size() * 6 / 10), MimeOf(type));
    EXPECT_EQ(s.name(), "bad_image") << s.ToString();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Refusal(whole.substr(0, 20), MimeOf(type)).name(), "bad_image");
  }
  for (ImageType type : {ImageType::kGif, ImageType::kWebp}) {  // an animation cut after a frame or two
    SCOPED_TRACE(MimeOf(type));
    const std::string whole = Animation(100, 80, 4, type);
    ASSERT_TRUE(ProcessImage(whole, MimeOf(type), kDefaults).ok());
    for (size_t cut : {whole.size() * 6 / 10, whole.size() - 1})
      EXPECT_EQ(Refusal(whole.substr(0, cut), MimeOf(type)).name(), "bad_image") << cut << " of " << whole.size();
  }
  std::string png = Encode(300, 200, ImageType::kPng);
  png[png.size() / 2] ^= 0x55;  // a changed byte in the pixel data: its chunk's CRC fails
  EXPECT_EQ(Refusal(png, "image/png").name(), "bad_image");
}

// A PNG chunk: length, type, data, CRC of type and data.
std::string PngChunk(const char* type, const std::string& data) {
  std::string chunk;
  auto u32 = [&](uint32_t v) { for (int shift = 24; shift >= 0; shift -= 8) chunk += char(v >> shift & 0xff); };
  u32(data.size());
  chunk += std::string(type, 4) + data;
  u32(crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(chunk.data() + 4), data.size() + 4));
  return chunk;
}

// A 60000 x 60000 RGB PNG (10.8 GB of pixels) whose IDAT holds the first 4 MB of its zero pixels
// compressed: a few kilobytes.
std::string PngBomb() {
  std::string ihdr;
  for (uint32_t v : {60000u, 60000u}) for (int shift = 24; shift >= 0; shift -= 8) ihdr += char(v >> shift & 0xff);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB, deflate, no filter, no interlace
  std::string zeros(4 << 20, '\0');
  std::string idat(compressBound(zeros.size()), '\0');
  uLongf size = idat.size();
  EXPECT_EQ(compress2(reinterpret_cast<Bytef*>(idat.data()), &size, reinterpret_cast<const Bytef*>(zeros.data()),
                      zeros.size(), 9), Z_OK);
  idat.resize(size);
  return std::string("\x89PNG\r\n\x1a\n", 8) + PngChunk("IHDR", ihdr) + PngChunk("IDAT", idat) + PngChunk("IEND", "");
}

long MaxRssKiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST_F(ImageTest, RefusesADecompressionBombFromItsHeader) {
  const std::string bomb = PngBomb();
  ASSERT_LT(bomb.size(), 64u << 10);
  const long rss_before = MaxRssKiB();
  const auto start = std::chrono::steady_clock::now();
  Status s = Refusal(bomb, "image/png");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(s.name(), "too_many_pixels") << s.ToString();
  EXPECT_EQ(s.code(), StatusCode::kTooLarge);
  EXPECT_LT(elapsed, std::chrono::milliseconds(500));
  EXPECT_LT(MaxRssKiB() - rss_before, 32 << 10);  // peak memory grew by under 32 MiB (the pixels: 10 GB)
}

TEST_F(ImageTest, RefusesJpegAndGifBombs) {
  // A JPEG whose frame header (SOF0) claims 65000 x 65000.
  std::string jpeg = Encode(64, 64, ImageType::kJpeg);
  const size_t sof = jpeg.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  jpeg.replace(sof + 5, 4, "\xfd\xe8\xfd\xe8");
  EXPECT_EQ(Refusal(jpeg, "image/jpeg").name(), "too_many_pixels");

  // A GIF whose screen and one frame claim 65535 x 65535, with a two-colour palette and an empty image.
  const std::string gif("GIF89a\xff\xff\xff\xff\x00\x00\x00"    // screen, no global palette
                        "\x2c\0\0\0\0\xff\xff\xff\xff\x80"  // frame at 0,0, local palette of 2
                        "\0\0\0\xff\xff\xff"                  // black, white
                        "\x02\x01\x2c\x00\x3b", 35);          // LZW: clear, end; trailer
  EXPECT_EQ(SniffImageType(gif), ImageType::kGif);
  EXPECT_EQ(Refusal(gif, "image/gif").name(), "too_many_pixels");
}

TEST_F(ImageTest, CountsEveryFrameOfAnAnimation) {
  ImageLimits limits;
  limits.max_pixels = 100 * 100 * 3 - 1;
  for (ImageType type : {ImageType::kGif, ImageType::kWebp}) {
    EXPECT_TRUE(ProcessImage(Animation(100, 100, 2, type), MimeOf(type), limits).ok());
    EXPECT_EQ(Refusal(Animation(100, 100, 3, type), MimeOf(type), limits).name(), "too_many_pixels");
  }
}

TEST_F(ImageTest, RunsOnSeveralThreadsAtOnce) {
  const std::string jpeg = WithMetadata(640, 480, ImageType::kJpeg, 6);
  const std::string png = Encode(300, 200, ImageType::kPng);
  std::vector<int> ok(8, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        auto r = t % 2 ? ProcessImage(jpeg, "image/jpeg", kDefaults) : ProcessImage(png, "image/png", kDefaults);
        ok[t] += r.ok() && r->width == (t % 2 ? 480 : 300);
      }
    });
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(ok[t], 5) << "thread " << t;
}

}  // namespace
}  // namespace chatpipe
