#pragma once
/// \file
/// The file layer under checkpoints: atomic replacement, the seal header, verified opening.
///
/// Seal: a checkpoint file is a 512-byte user block followed by the HDF5 data (HDF5 itself skips
/// the user block, so h5py and h5dump read the file as usual). The user block is text, NUL-padded:
/// \code{.unparsed}
///   "reel-checkpoint-seal 1\nhdf5_bytes <N>\ncrc32 <8 lowercase hex digits>\n"
/// \endcode
/// where N is the byte count after the user block and crc32 its CRC-32 (zlib's, = Python's
/// zlib.crc32). Opening verifies it before HDF5 parses a single byte, so truncated or damaged
/// files are refused with a clear message (and HDF5 never parses corrupt metadata). A file that
/// starts with the plain HDF5 signature (no user block, e.g. written by h5py) is read unverified.
#include <cstdint>
#include <functional>
#include <string>

#include "framework/hdf5_file.h"

namespace reel::checkpoint_file {

inline constexpr int64_t kSealBytes = 512;

/// Creates a sealed HDF5 file at a temporary path beside `path`, lets fill() write its contents,
/// closes, seals and fsyncs it, renames it over `path` and fsyncs the directory. On any failure
/// the temporary file is removed, `path` is untouched, and CheckpointError names the file.
void write_atomically(const std::string& path, const std::function<void(h5::File&)>& fill);

/// Replaces `to` atomically with a copy of `from` (never a hard link: no file is another's alias).
void copy_atomically(const std::string& from, const std::string& to);

/// Writes the seal of an HDF5 file that has a 512-byte user block (after editing it in place).
void seal(const std::string& path);

struct Verified {
  bool sealed = false;
  int64_t file_bytes = 0;
};
/// Checks the seal (or the HDF5 signature of an unsealed file); throws CheckpointError "path: ...".
Verified verify(const std::string& path);
/// verify() then open read-only; HDF5 failures become CheckpointError.
h5::File open_verified(const std::string& path, Verified* info = nullptr);

/// Temporary-file name beside path: "<dir>/.<name>.tmp.<pid>.<n>".
std::string temp_path(const std::string& path);
/// Removes "<dir>/.<name>*.tmp.<pid>.*" files whose process is gone; returns how many.
int remove_stale_temps(const std::string& path);

}  // namespace reel::checkpoint_file
