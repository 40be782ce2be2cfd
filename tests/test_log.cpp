// init_logging() may be called more than once: the second call reuses the "reel" logger.
#include <catch2/catch.hpp>

#include <memory>

#include <spdlog/spdlog.h>

#include "framework/log.h"

TEST_CASE("init_logging is idempotent: a second call keeps the one 'reel' logger as the default", "[log]") {
  const auto before = spdlog::default_logger();
  REQUIRE_NOTHROW(reel::init_logging());
  const auto first = spdlog::get("reel");
  REQUIRE(first != nullptr);
  CHECK(spdlog::default_logger() == first);
  // Before the fix this threw spdlog's "logger with name 'reel' already exists".
  REQUIRE_NOTHROW(reel::init_logging());
  CHECK(spdlog::get("reel") == first);
  CHECK(spdlog::default_logger() == first);
  CHECK(spdlog::default_logger()->name() == "reel");
  // Another logger made the default (spdlog then drops "reel" from its registry): init_logging
  // makes a "reel" logger the default again, without throwing.
  spdlog::set_default_logger(before);
  REQUIRE_NOTHROW(reel::init_logging());
  CHECK(spdlog::default_logger()->name() == "reel");
  CHECK(spdlog::get("reel") == spdlog::default_logger());
  REQUIRE_NOTHROW(reel::init_logging());
  CHECK(spdlog::get("reel") == spdlog::default_logger());
  spdlog::set_default_logger(before);
}
