// image_bench: images per second and milliseconds per image of ProcessImage (media/image.h) on one thread,
// at a few typical sizes: the whole intake of an upload (header checks, full decode, EXIF rotation,
// re-encode without metadata, WebP thumbnail). The inputs are made here with libvips: a gradient with
// Gaussian noise (sigma 12), so they compress about as a photo does, not as a flat gradient would.
// Times are wall-clock and the process's CPU time (libvips works in its own threads, one at a time here):
// on a shared machine the CPU time is the steadier figure (1000 / CPU ms is images per second per core).
// Prints figures and the machine's conditions (cores, load average, libvips version), asserts nothing.
#include <CLI/CLI.hpp>
#include <vips/vips.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "media/image.h"

#include "bench/machine.h"

namespace {

using chatpipe::bench::CpuModel;
using chatpipe::bench::LoadAverage;

using chatpipe::ImageType;



double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// A w x h photo-like sRGB image (frames of it stacked for an animation) saved as `type`; `orientation`
// is written in its EXIF. Empty if libvips failed.
std::string MakeInput(int w, int h, ImageType type, int frames = 1, int orientation = 1) {
  VipsImage *xyz = nullptr, *scaled = nullptr, *rgb = nullptr, *noise = nullptr, *sum = nullptr, *image = nullptr;
  double a[] = {200.0 / w, 200.0 / (h * frames)}, b[] = {20, 20};
  void* buffer = nullptr;
  size_t size = 0;
  int rc = vips_xyz(&xyz, w, h * frames, nullptr) || vips_linear(xyz, &scaled, a, b, 2, nullptr) ||
           vips_bandjoin_const1(scaled, &rgb, 90, nullptr) ||
           vips_gaussnoise(&noise, w, h * frames, "sigma", 12.0, "mean", 0.0, nullptr) ||
           vips_add(rgb, noise, &sum, nullptr) || vips_cast_uchar(sum, &image, nullptr);
  if (rc == 0) {
    VipsImage* memory = vips_image_copy_memory(image);  // fields can be set on a private copy
    vips_image_set_int(memory, VIPS_META_ORIENTATION, orientation);
    if (frames > 1) vips_image_set_int(memory, VIPS_META_PAGE_HEIGHT, h);
    switch (type) {
      case ImageType::kPng: rc = vips_pngsave_buffer(memory, &buffer, &size, nullptr); break;
      case ImageType::kJpeg: rc = vips_jpegsave_buffer(memory, &buffer, &size, "Q", 90, nullptr); break;
      case ImageType::kGif: rc = vips_gifsave_buffer(memory, &buffer, &size, nullptr); break;
      case ImageType::kWebp: rc = vips_webpsave_buffer(memory, &buffer, &size, "Q", 85, nullptr); break;
    }
    g_object_unref(memory);
  }
  for (VipsImage* i : {xyz, scaled, rgb, noise, sum, image})
    if (i) g_object_unref(i);
  if (rc != 0) return "";
  std::string bytes(static_cast<const char*>(buffer), size);
  g_free(buffer);
  return bytes;
}

struct Case {
  const char* name;
  int width, height;
  ImageType type;
  int frames = 1;
  int orientation = 1;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("ProcessImage throughput on one thread");
  double seconds = 0.3;
  app.add_option("--seconds", seconds, "How long each size runs (at least one image each, after one to warm up)");
  std::string sample;
  app.add_option("--write-sample", sample, "Only write a 1920x1080 photo-like JPEG to this file (bench/http's upload)");
  CLI11_PARSE(app, argc, argv);
  if (VIPS_INIT(argv[0]) != 0) return 1;
  if (!sample.empty()) {
    std::ofstream out(sample, std::ios::binary);
    out << MakeInput(1920, 1080, ImageType::kJpeg);
    return out.good() ? 0 : 1;
  }

  std::printf("cpu: %s (%u cores), load average %s\nbuild: %s\n"
              "libvips %s, one thread (vips_concurrency_set(1), as ProcessImage runs)\n",
              CpuModel().c_str(), std::thread::hardware_concurrency(), LoadAverage().c_str(), CHATPIPE_BUILD_TYPE,
              vips_version_string());
  const Case cases[] = {
      {"640x480 JPEG", 640, 480, ImageType::kJpeg},
      {"1920x1080 JPEG", 1920, 1080, ImageType::kJpeg},
      {"1920x1080 JPEG, EXIF rotated", 1920, 1080, ImageType::kJpeg, 1, 6},
      {"4000x3000 JPEG", 4000, 3000, ImageType::kJpeg},
      {"1024x1024 PNG", 1024, 1024, ImageType::kPng},
      {"1024x768 WebP", 1024, 768, ImageType::kWebp},
      {"480x270 GIF, 5 frames", 480, 270, ImageType::kGif, 5},
  };
  chatpipe::ImageLimits limits;
  limits.max_bytes = 64 << 20;  // the noisy 12 MP JPEG is over the 5 MiB default; the bench times the work
  std::printf("%-30s %9s %9s %7s %9s %9s %8s\n", "input", "in bytes", "out bytes", "thumb", "images/s", "ms/image",
              "CPU ms");
  size_t sink = 0;
  for (const Case& c : cases) {
    const std::string input = MakeInput(c.width, c.height, c.type, c.frames, c.orientation);
    const std::string_view mime = chatpipe::MimeOf(c.type);
    auto warm = chatpipe::ProcessImage(input, mime, limits);
    if (!warm.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.name, warm.status().ToString().c_str());
      return 1;
    }
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const double cpu_start = ProcessCpuSeconds();
    int done = 0;
    double elapsed = 0;
    while (done < 1 || elapsed < seconds) {
      sink += chatpipe::ProcessImage(input, mime, limits)->bytes.size();
      ++done;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    }
    const double cpu = ProcessCpuSeconds() - cpu_start;
    std::printf("%-30s %9zu %9zu %7zu %9.1f %9.1f %8.1f\n", c.name, input.size(), warm->bytes.size(),
                warm->thumbnail.size(), done / elapsed, elapsed * 1e3 / done, cpu * 1e3 / done);
  }
  std::printf("(checksum %zu)\n", sink);
  return 0;
}
