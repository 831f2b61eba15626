// dlib-reference.cc: dlib's own shape predictor and HOG face detector, the
// yardstick for core/pal-dlib.c (the expected points in tests/data/dlib/).
//
// Build against Debian's dlib (package libdlib-dev, 19.24):
//   g++ -O2 -std=c++14 -o /tmp/dlib-reference tools/dlib-reference.cc \
//       $(pkg-config --cflags --libs dlib-1)
//
// Images are binary PPM (P6, RGB) or PGM (P5, gray) files with maxval 255,
// so both sides see the same decoded pixels: test-dlib writes them from
// pal_image_load ("test-dlib --write-pnm DIR").
//
// Usage: dlib-reference MODEL.dat < commands
//   detect IMAGE             prints "IMAGE L T R B" for each HOG face
//                            (frontal_face_detector, upsampled once)
//   predict IMAGE L T R B    prints "IMAGE L T R B x0 y0 ... x67 y67"
//                            (dlib's rectangle: inclusive corners)

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

using namespace dlib;

namespace {

struct Pnm {
  bool rgb = false;
  array2d<rgb_pixel> color;
  array2d<unsigned char> gray;
};

std::string next_token(std::istream &in) {
  std::string tok;
  while (tok.empty()) {
    int c = in.get();
    if (c == EOF) throw std::runtime_error("short PNM header");
    if (c == '#') {
      std::string line;
      std::getline(in, line);
    } else if (!std::isspace(c)) {
      tok.push_back((char)c);
      while (!std::isspace(in.peek()) && in.peek() != EOF) tok.push_back((char)in.get());
    }
  }
  return tok;
}

void load_pnm(const std::string &path, Pnm &img) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string magic = next_token(in);
  long w = std::stol(next_token(in)), h = std::stol(next_token(in));
  long maxval = std::stol(next_token(in));
  in.get();  // the single whitespace before the pixels
  if ((magic != "P6" && magic != "P5") || maxval != 255 || w <= 0 || h <= 0)
    throw std::runtime_error(path + ": not an 8-bit P5/P6 file");
  img.rgb = magic == "P6";
  std::vector<unsigned char> buf((size_t)w * h * (img.rgb ? 3 : 1));
  if (!in.read((char *)buf.data(), (std::streamsize)buf.size()))
    throw std::runtime_error(path + ": truncated");
  if (img.rgb) {
    img.color.set_size(h, w);
    for (long y = 0; y < h; y++)
      for (long x = 0; x < w; x++) {
        const unsigned char *p = &buf[((size_t)y * w + x) * 3];
        img.color[y][x] = rgb_pixel(p[0], p[1], p[2]);
      }
  } else {
    img.gray.set_size(h, w);
    for (long y = 0; y < h; y++)
      for (long x = 0; x < w; x++) img.gray[y][x] = buf[(size_t)y * w + x];
  }
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " MODEL.dat < commands\n";
    return 2;
  }
  try {
    shape_predictor sp;
    deserialize(argv[1]) >> sp;
    frontal_face_detector detector = get_frontal_face_detector();

    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream ls(line);
      std::string cmd, path;
      if (!(ls >> cmd >> path)) continue;
      Pnm img;
      load_pnm(path, img);
      if (cmd == "detect") {
        std::vector<rectangle> faces =
            img.rgb ? detector(img.color, 1) : detector(img.gray, 1);
        for (const rectangle &r : faces)
          std::cout << path << ' ' << r.left() << ' ' << r.top() << ' ' << r.right()
                    << ' ' << r.bottom() << '\n';
      } else if (cmd == "predict") {
        long l, t, r, b;
        if (!(ls >> l >> t >> r >> b)) throw std::runtime_error("predict: bad box: " + line);
        rectangle rect(l, t, r, b);
        full_object_detection d = img.rgb ? sp(img.color, rect) : sp(img.gray, rect);
        std::cout << path << ' ' << l << ' ' << t << ' ' << r << ' ' << b;
        for (unsigned long i = 0; i < d.num_parts(); i++)
          std::cout << ' ' << d.part(i).x() << ' ' << d.part(i).y();
        std::cout << '\n';
      } else {
        throw std::runtime_error("unknown command: " + cmd);
      }
    }
  } catch (std::exception &e) {
    std::cerr << argv[0] << ": " << e.what() << '\n';
    return 1;
  }
  return 0;
}
