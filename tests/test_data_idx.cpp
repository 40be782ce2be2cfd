// IDX reading (plain and gzip), its errors, and the Fashion-MNIST loader.
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>

#include "tests/build_info.h"
#include "tests/data_test_util.h"
#include "tests/example_runner.h"
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "data/idx.h"
#include "framework/error.h"

using namespace reel;
namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {

using reel::testing::TempDir;

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes, bool gz) {
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    REQUIRE(gzclose(f) == Z_OK);
  } else {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
  }
}

std::vector<uint8_t> idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
                               uint8_t type = 0x08) {
  std::vector<uint8_t> b = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims)
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

std::vector<uint8_t> iota_bytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 % 256);
  return v;
}

using reel::testing::data_error_message;

}  // namespace

TEST_CASE("read_idx reads plain and gzipped IDX files", "[data][idx]") {
  TempDir tmp("idx_read");
  const std::vector<uint8_t> data = iota_bytes(2 * 3 * 4);
  for (bool gz : {false, true}) {
    const std::string path = tmp.file(gz ? "a.idx.gz" : "a.idx");
    write_bytes(path, idx_bytes({2, 3, 4}, data), gz);
    const IdxArray a = read_idx(path);
    CHECK(a.dims == std::vector<int64_t>{2, 3, 4});
    CHECK(a.data == data);
    CHECK(read_idx_dims(path) == std::vector<int64_t>{2, 3, 4});

    const IdxArray first = read_idx(path, 1);  // only the first item along dim 0
    CHECK(first.dims == std::vector<int64_t>{1, 3, 4});
    CHECK(first.data == std::vector<uint8_t>(data.begin(), data.begin() + 12));
  }
  const std::string labels = tmp.file("labels.idx.gz");
  write_bytes(labels, idx_bytes({5}, {0, 1, 2, 3, 255}), true);
  const IdxArray l = read_idx(labels);
  CHECK(l.dims == std::vector<int64_t>{5});
  CHECK(l.data == std::vector<uint8_t>{0, 1, 2, 3, 255});
}

TEST_CASE("read_idx rejects truncated, malformed and missing files", "[data][idx]") {
  TempDir tmp("idx_errors");
  for (bool gz : {false, true}) {
    const std::string path = tmp.file(gz ? "short.idx.gz" : "short.idx");
    write_bytes(path, idx_bytes({2, 3, 4}, iota_bytes(20)), gz);
    const std::string msg = data_error_message([&] { read_idx(path); });
    CHECK_THAT(msg, Contains(path));
    CHECK_THAT(msg, Contains("expected 24 bytes of data, got 20"));
  }
  // Headers that claim far more than the file holds: a clear error, and no allocation of what the
  // header claims (2^31 images of 28x28 would be 1.6 TB; 65536 x 65536 pixels 4 GiB each).
  for (const std::vector<uint32_t>& dims : std::vector<std::vector<uint32_t>>{{0x80000000u, 28, 28}, {1, 65536, 65535}}) {
    const std::string path = tmp.file("huge.idx.gz");
    write_bytes(path, idx_bytes(dims, iota_bytes(1000)), true);
    const std::string msg = data_error_message([&] { read_idx(path); });
    INFO(msg);
    CHECK((msg.find("more than the limit of 4294967296") != std::string::npos ||
           msg.find("bytes of data, got 1000") != std::string::npos));
  }
  const std::string short_header = tmp.file("header.idx");
  write_bytes(short_header, {0, 0, 8, 3, 0, 0}, false);
  CHECK_THAT(data_error_message([&] { read_idx(short_header); }), Contains("header"));

  const std::string bad_magic = tmp.file("magic.idx");
  write_bytes(bad_magic, {0x1f, 0x00, 0x08, 0x01, 0, 0, 0, 1, 42}, false);
  std::string msg = data_error_message([&] { read_idx(bad_magic); });
  CHECK_THAT(msg, Contains("magic.idx"));
  CHECK_THAT(msg, Contains("magic"));

  const std::string bad_type = tmp.file("type.idx");
  write_bytes(bad_type, idx_bytes({1}, {0, 0, 0, 0}, 0x0D), false);
  msg = data_error_message([&] { read_idx(bad_type); });
  CHECK_THAT(msg, Contains("type.idx"));
  CHECK_THAT(msg, Contains("expected 0x08"));

  const std::string no_dims = tmp.file("ndim.idx");
  write_bytes(no_dims, {0, 0, 8, 0}, false);
  CHECK_THAT(data_error_message([&] { read_idx(no_dims); }), Contains("ndim"));

  const std::string trailing = tmp.file("trailing.idx");
  write_bytes(trailing, idx_bytes({2}, {1, 2, 3}), false);
  CHECK_THAT(data_error_message([&] { read_idx(trailing); }), Contains("trailing"));

  // A gzip stream cut in the middle.
  const std::string whole = tmp.file("whole.idx.gz");
  write_bytes(whole, idx_bytes({64, 64}, iota_bytes(64 * 64)), true);
  std::vector<char> gzbytes(fs::file_size(whole));
  std::ifstream(whole, std::ios::binary).read(gzbytes.data(), static_cast<std::streamsize>(gzbytes.size()));
  const std::string cut = tmp.file("cut.idx.gz");
  std::ofstream(cut, std::ios::binary).write(gzbytes.data(), static_cast<std::streamsize>(gzbytes.size() / 2));
  CHECK_THAT(data_error_message([&] { read_idx(cut); }), Contains("cut.idx.gz"));

  const std::string missing = tmp.file("nope.idx");
  msg = data_error_message([&] { read_idx(missing); });
  CHECK_THAT(msg, Contains(missing));
  CHECK_THAT(msg, Contains("no such file"));
  CHECK_THAT(data_error_message([&] { read_idx(tmp.path.string()); }), Contains("regular file"));
}

TEST_CASE("load_fashion_mnist on a tiny synthetic directory", "[data][idx]") {
  TempDir tmp("fmnist_tiny");
  // 3 images of 2x2; the test split uncompressed, the train split gzipped.
  const std::vector<uint8_t> pixels = {0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0};
  for (const std::string prefix : {"t10k", "train"}) {
    const bool gz = prefix == "train";
    const std::string suffix = gz ? ".gz" : "";
    write_bytes(tmp.file(prefix + "-images-idx3-ubyte" + suffix), idx_bytes({3, 2, 2}, pixels), gz);
    write_bytes(tmp.file(prefix + "-labels-idx1-ubyte" + suffix), idx_bytes({3}, {9, 0, 4}), gz);
  }
  for (const std::string split : {"train", "test"}) {
    const ImageDataset ds = load_fashion_mnist(tmp.path.string(), split);
    CHECK(ds.n == 3);
    CHECK(ds.rows == 2);
    CHECK(ds.cols == 2);
    REQUIRE(ds.pixels.size() == 12);
    CHECK(ds.pixels[0] == 0.0f);
    CHECK(ds.pixels[1] == 1.0f);
    CHECK(ds.pixels[2] == Approx(0.2f));
    CHECK(ds.labels == std::vector<int64_t>{9, 0, 4});
  }
  const ImageDataset two = load_fashion_mnist(tmp.path.string(), "train", 2);
  CHECK(two.n == 2);
  CHECK(two.pixels.size() == 8);
  CHECK(two.labels == std::vector<int64_t>{9, 0});

  CHECK_THROWS_AS(load_fashion_mnist(tmp.path.string(), "valid"), UsageError);
  const std::string nodir = tmp.file("absent");
  CHECK_THAT(data_error_message([&] { load_fashion_mnist(nodir, "train"); }), Contains(nodir));

  // Count mismatch (caught from the headers even with a limit), then a label out of range.
  write_bytes(tmp.file("t10k-labels-idx1-ubyte"), idx_bytes({2}, {1, 2}), false);
  CHECK_THAT(data_error_message([&] { load_fashion_mnist(tmp.path.string(), "test", 1); }),
             Contains("expected equal counts"));
  write_bytes(tmp.file("t10k-labels-idx1-ubyte"), idx_bytes({3}, {1, 10, 2}), false);
  CHECK_THAT(data_error_message([&] { load_fashion_mnist(tmp.path.string(), "test"); }),
             Contains("[0, 10)"));
  fs::remove(tmp.file("t10k-labels-idx1-ubyte"));
  CHECK_THAT(data_error_message([&] { load_fashion_mnist(tmp.path.string(), "test"); }),
             Contains("t10k-labels-idx1-ubyte"));
}

TEST_CASE("load_fashion_mnist reads the installed Fashion-MNIST test split", "[data][idx]") {
  if (!fs::is_directory(kFashionMnistDir)) {
    WARN(std::string(kFashionMnistDir) + " not found (apt-get install dataset-fashion-mnist); skipped");
    return;
  }
  const ImageDataset ds = load_fashion_mnist(kFashionMnistDir, "test", 100);
  CHECK(ds.n == 100);
  CHECK(ds.rows == 28);
  CHECK(ds.cols == 28);
  REQUIRE(ds.pixels.size() == 100u * 28 * 28);
  REQUIRE(ds.labels.size() == 100u);
  for (int64_t y : ds.labels) CHECK((y >= 0 && y <= 9));
  float lo = 1, hi = 0;
  for (float p : ds.pixels) lo = std::min(lo, p), hi = std::max(hi, p);
  CHECK(lo == 0.0f);
  CHECK(hi == 1.0f);
  // The whole test split: 10,000 images, exactly 1,000 of each class.
  const ImageDataset all = load_fashion_mnist(kFashionMnistDir, "test");
  CHECK(all.n == 10000);
  std::vector<int64_t> per_class(10, 0);
  for (int64_t y : all.labels) ++per_class[static_cast<size_t>(y)];
  CHECK(per_class == std::vector<int64_t>(10, 1000));
  CHECK(std::equal(ds.pixels.begin(), ds.pixels.end(), all.pixels.begin()));
  CHECK(read_idx_dims(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz") ==
        std::vector<int64_t>{10000, 28, 28});
  CHECK(read_idx_dims(std::string(kFashionMnistDir) + "/train-labels-idx1-ubyte.gz") ==
        std::vector<int64_t>{60000});
}

TEST_CASE("images that do not fit the model are an error naming the data, not the model's shapes", "[data][idx][examples]") {
  const std::string built = reel::testing::cache_value("REEL_BUILD_EXAMPLES");
  if (built == "OFF" || built == "0" || built == "FALSE") return;
  if (!fs::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz")) {
    WARN("no Fashion-MNIST (Debian dataset-fashion-mnist): skipped");
    return;
  }
  TempDir tmp("idx_cols");
  // A Fashion-MNIST look-alike whose images have 29 columns.
  for (const char* prefix : {"train", "t10k"}) {
    write_bytes((tmp.path / (std::string(prefix) + "-images-idx3-ubyte.gz")).string(), idx_bytes({10, 28, 29}, iota_bytes(10 * 28 * 29)), true);
    write_bytes((tmp.path / (std::string(prefix) + "-labels-idx1-ubyte.gz")).string(), idx_bytes({10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), true);
  }
  const fs::path bin = fs::path(REEL_BINARY_DIR) / "examples";
  using reel::testing::run;
  REQUIRE(run(bin / "train_classifier", "--limit 200 --dev-size 50 --epochs 1 --hidden 8 --checkpoint c.h5", tmp.path).code == 0);
  const auto r = run(bin / "evaluate", "--checkpoint c.h5 --data " + tmp.path.string(), tmp.path);
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK(r.err.find("have 29 columns: the data and the model do not fit") != std::string::npos);
  CHECK(r.err.find(tmp.path.string()) != std::string::npos);
}
