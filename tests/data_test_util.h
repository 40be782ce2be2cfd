#pragma once
// Helpers the data tests share: a temporary directory, and the message of an expected DataError.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <system_error>

#include "data/data_error.h"

namespace reel::testing {

// A fresh directory under the system temp dir for one test, removed when it goes out of scope.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("reel_test_data_" + name + "_" + std::to_string(getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// What f() throws as a DataError; fails the test if it throws nothing.
template <class F>
std::string data_error_message(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  FAIL("expected a DataError");
  return "";
}

}  // namespace reel::testing
