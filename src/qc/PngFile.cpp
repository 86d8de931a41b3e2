#include "qc/PngFile.h"

#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <string>
#include <vector>

#include "core/Error.h"

namespace fs = std::filesystem;

namespace ctd::qc {

namespace {

// libpng reports errors by longjmp; these functions hold no C++ object that
// needs unwinding between setjmp and the libpng calls, and return the message.
struct PngMessage {
  char text[256] = {0};
};

void onError(png_structp png, png_const_charp msg) {
  auto* m = static_cast<PngMessage*>(png_get_error_ptr(png));
  std::snprintf(m->text, sizeof m->text, "%s", msg);
  png_longjmp(png, 1);
}
void onWarning(png_structp, png_const_charp) {}

bool encode(FILE* f, const unsigned char* const* rows, int width, int height, int channels, PngMessage* msg) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, msg, onError, onWarning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_init_io(png, f);
  // Fast deflate: the renders are mostly flat shading and black background.
  png_set_compression_level(png, 1);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  if (channels == 3) png_set_bgr(png);
  png_write_image(png, const_cast<png_bytepp>(rows));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

struct Decoded {
  png_uint_32 width = 0, height = 0;
  int channels = 0;
};

// First pass: the header (so the caller can allocate), second: the pixels.
bool decode(FILE* f, Decoded* d, std::vector<unsigned char>* pixels, PngMessage* msg) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, msg, onError, onWarning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_init_io(png, f);
  png_read_info(png, info);
  const int type = png_get_color_type(png, info);
  if (png_get_bit_depth(png, info) == 16) png_set_strip_16(png);
  if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
  png_set_bgr(png);
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);
  d->width = png_get_image_width(png, info);
  d->height = png_get_image_height(png, info);
  d->channels = png_get_channels(png, info);
  const png_size_t row_bytes = png_get_rowbytes(png, info);
  pixels->resize(row_bytes * d->height);
  // Row by row (no local array of row pointers a longjmp would leak).
  for (int pass = 0; pass < passes; ++pass)
    for (png_uint_32 r = 0; r < d->height; ++r) png_read_row(png, pixels->data() + r * row_bytes, nullptr);
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace

void writePng(const fs::path& file, const cv::Mat& image) {
  if (image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3) || image.empty())
    throw Error(file, "QC image is not 8-bit gray or colour");
  fs::create_directories(file.parent_path());
  const fs::path tmp = file.string() + ".tmp";
  std::vector<const unsigned char*> rows(static_cast<std::size_t>(image.rows));
  for (int r = 0; r < image.rows; ++r) rows[static_cast<std::size_t>(r)] = image.ptr<unsigned char>(r);
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error(tmp, "cannot write the QC image");
  PngMessage msg;
  const bool ok = encode(f, rows.data(), image.cols, image.rows, image.channels(), &msg);
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw Error(tmp, std::string("cannot write the QC image") + (msg.text[0] ? std::string(": ") + msg.text : ""));
  }
  fs::rename(tmp, file);
}

cv::Mat readPng(const fs::path& file) {
  FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) throw Error(file, "cannot open the PNG");
  PngMessage msg;
  Decoded d;
  std::vector<unsigned char> pixels;
  const bool ok = decode(f, &d, &pixels, &msg);
  std::fclose(f);
  if (!ok || (d.channels != 1 && d.channels != 3))
    throw Error(file, std::string("cannot read the PNG") + (msg.text[0] ? std::string(": ") + msg.text : ""));
  const cv::Mat view(static_cast<int>(d.height), static_cast<int>(d.width), d.channels == 1 ? CV_8UC1 : CV_8UC3,
                     pixels.data());
  return view.clone();
}

}  // namespace ctd::qc
