#include "framework/checkpoint_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include <spdlog/spdlog.h>

#include "framework/checkpoint.h"

namespace reel::checkpoint_file {

namespace fs = std::filesystem;

namespace {

constexpr char kSealMagic[] = "reel-checkpoint-seal 1\n";
constexpr unsigned char kHdf5Signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw CheckpointError(path + ": " + what); }
[[noreturn]] void fail_errno(const std::string& path, const std::string& what) {
  fail(path, what + ": " + std::strerror(errno));
}

struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

std::string dir_of(const std::string& path) {
  const fs::path p(path);
  return p.has_parent_path() ? p.parent_path().string() : ".";
}

void fsync_dir(const std::string& path) {
  Fd d(::open(dir_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.fd < 0 || ::fsync(d.fd) != 0) spdlog::warn("checkpoint: cannot fsync directory {}: {}", dir_of(path), std::strerror(errno));
}

// CRC-32 of bytes [from, from + n) of the open file.
uint32_t crc_range(int fd, int64_t from, int64_t n, const std::string& path) {
  std::vector<unsigned char> buf(1 << 20);
  uLong crc = crc32(0L, Z_NULL, 0);
  while (n > 0) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(n, static_cast<int64_t>(buf.size())));
    const ssize_t got = ::pread(fd, buf.data(), want, static_cast<off_t>(from));
    if (got < 0) {
      if (errno == EINTR) continue;
      fail_errno(path, "cannot read");
    }
    if (got == 0) fail(path, "file ended early while checksumming");
    crc = crc32(crc, buf.data(), static_cast<uInt>(got));
    from += got;
    n -= got;
  }
  return static_cast<uint32_t>(crc);
}

void write_all(int fd, const void* data, size_t n, int64_t at, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(at));
    if (w < 0) {
      if (errno == EINTR) continue;
      fail_errno(path, "cannot write");
    }
    p += w;
    n -= static_cast<size_t>(w);
    at += w;
  }
}

int64_t file_size(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) fail_errno(path, "cannot stat");
  return static_cast<int64_t>(st.st_size);
}

void rename_over(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    fail_errno(path, "cannot rename the temporary file " + tmp + " over it");
  }
  fsync_dir(path);
}

}  // namespace

std::string temp_path(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  // The PID alone is not unique (two writers in separate PID namespaces share numbers): 64
  // random bits follow it.
  static const uint64_t salt = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  const fs::path p(path);
  char rnd[17];
  std::snprintf(rnd, sizeof rnd, "%016llx", static_cast<unsigned long long>(salt ^ (counter.load() * 0x9e3779b97f4a7c15ULL)));
  const std::string name = "." + p.filename().string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++) +
                           "." + rnd;
  return p.has_parent_path() ? (p.parent_path() / name).string() : name;
}

// flock(LOCK_EX) on the checkpoint's directory for its lifetime: saves into one directory take
// turns, whatever process or PID namespace they run in, and stale temp files are removed only
// while no save runs. No lock file is left behind. A save waits up to 30 s for its turn, then
// fails naming the directory (required), or gives up silently (not required).
class SaveLock {
 public:
  SaveLock(const std::string& path, bool required) {
    const fs::path p(path);
    dir_ = p.has_parent_path() ? p.parent_path().string() : ".";
    fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) {
      if (required) fail_errno(path, "cannot open its directory " + dir_ + " to lock it");
      return;
    }
    for (int waited_ms = 0; ::flock(fd_, LOCK_EX | LOCK_NB) != 0; waited_ms += 10) {
      if (!required || waited_ms >= 30000) {
        ::close(fd_);
        fd_ = -1;
        if (required)
          fail(path, "another process has held the save lock on " + dir_ + " for 30 s: is a run stuck while saving there?");
        return;
      }
      ::usleep(10000);
    }
  }
  ~SaveLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }
  bool held() const { return fd_ >= 0; }
  SaveLock(const SaveLock&) = delete;
  SaveLock& operator=(const SaveLock&) = delete;

 private:
  std::string dir_;
  int fd_ = -1;
};

// SIGXFSZ (a file-size limit, ulimit -f) ignored while saving: the write then fails with EFBIG
// and is reported, instead of the signal killing the process.
class IgnoreFileSizeSignal {
 public:
  IgnoreFileSizeSignal() {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    installed_ = ::sigaction(SIGXFSZ, &ign, &old_) == 0;
  }
  ~IgnoreFileSizeSignal() {
    if (installed_) ::sigaction(SIGXFSZ, &old_, nullptr);
  }

 private:
  struct sigaction old_ {};
  bool installed_ = false;
};

int remove_stale_temps(const std::string& path) {
  const fs::path p(path);
  std::string base = p.filename().string();
  if (base.size() > 3 && base.compare(base.size() - 3, 3, ".h5") == 0) base.resize(base.size() - 3);
  const std::string prefix = "." + base;
  int removed = 0;
  std::error_code ec;
  // Only while no save holds the directory's lock: a live writer in another PID namespace would
  // otherwise look dead to kill(pid, 0).
  SaveLock lock(path, /*required=*/false);
  if (!lock.held()) return 0;
  for (const auto& entry : fs::directory_iterator(dir_of(path), ec)) {
    const std::string name = entry.path().filename().string();
    const size_t t = name.find(".tmp.");
    if (name.rfind(prefix, 0) != 0 || t == std::string::npos) continue;
    const long pid = std::strtol(name.c_str() + t + 5, nullptr, 10);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // its writer may still run
    if (fs::remove(entry.path(), ec)) {
      ++removed;
      spdlog::info("checkpoint: removed {} left by an interrupted save", entry.path().string());
    }
  }
  return removed;
}

void seal(const std::string& path) {
  Fd f(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (f.fd < 0) fail_errno(path, "cannot open to seal");
  const int64_t size = file_size(f.fd, path);
  unsigned char sig[8] = {};
  if (size < kSealBytes + 8 || ::pread(f.fd, sig, 8, kSealBytes) != 8 || std::memcmp(sig, kHdf5Signature, 8) != 0)
    fail(path, "cannot seal: no HDF5 data after a 512-byte user block");
  const int64_t n = size - kSealBytes;
  char crc_hex[9];
  std::snprintf(crc_hex, sizeof crc_hex, "%08x", crc_range(f.fd, kSealBytes, n, path));
  std::string header = std::string(kSealMagic) + "hdf5_bytes " + std::to_string(n) + "\ncrc32 " + crc_hex + "\n";
  header.resize(static_cast<size_t>(kSealBytes), '\0');
  write_all(f.fd, header.data(), header.size(), 0, path);
  if (::fsync(f.fd) != 0) fail_errno(path, "cannot fsync");
}

Verified verify(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; anything but a regular file is refused.
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (f.fd < 0) fail_errno(path, "cannot open the checkpoint");
  struct stat sb {};
  if (::fstat(f.fd, &sb) != 0) fail_errno(path, "cannot stat the checkpoint");
  if (!S_ISREG(sb.st_mode))
    fail(path, std::string("not a regular file (") +
                   (S_ISFIFO(sb.st_mode) ? "a FIFO" : S_ISDIR(sb.st_mode) ? "a directory" : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "a device" : "a special file") +
                   "): a checkpoint is a regular file");
  Verified v;
  v.file_bytes = file_size(f.fd, path);
  if (v.file_bytes == 0) fail(path, "not a reel checkpoint: the file is empty");
  std::string head(static_cast<size_t>(std::min<int64_t>(kSealBytes, v.file_bytes)), '\0');
  if (::pread(f.fd, head.data(), head.size(), 0) != static_cast<ssize_t>(head.size())) fail_errno(path, "cannot read");
  if (head.size() >= 8 && std::memcmp(head.data(), kHdf5Signature, 8) == 0) return v;  // plain HDF5: unverified
  if (head.rfind(kSealMagic, 0) != 0) {
    std::string shown;
    for (char c : head.substr(0, 16)) shown += (c >= 32 && c < 127) ? c : '.';
    fail(path, "not a reel checkpoint: it starts neither with a reel seal nor with the HDF5 signature (first bytes: \"" +
                   shown + "\")");
  }
  if (v.file_bytes < kSealBytes) fail(path, "truncated: the file ends inside its 512-byte seal header (" + std::to_string(v.file_bytes) + " bytes)");
  unsigned long long n = 0;
  char crc_hex[9] = {};
  const std::string body = head.substr(sizeof(kSealMagic) - 1);
  if (std::sscanf(body.c_str(), "hdf5_bytes %llu\ncrc32 %8[0-9a-f]\n", &n, crc_hex) != 2 || std::strlen(crc_hex) != 8)
    fail(path, "corrupt: the seal header is damaged");
  const int64_t have = v.file_bytes - kSealBytes;
  if (static_cast<int64_t>(n) != have)
    fail(path, (have < static_cast<int64_t>(n) ? "truncated: " : "corrupt: ") + std::string("the seal records ") + std::to_string(n) +
                   " bytes of HDF5 data, the file holds " + std::to_string(have));
  char actual[9];
  std::snprintf(actual, sizeof actual, "%08x", crc_range(f.fd, kSealBytes, have, path));
  if (std::strcmp(actual, crc_hex) != 0)
    fail(path, std::string("corrupt: the CRC-32 of the HDF5 data is ") + actual + ", the seal records " + crc_hex +
                   " (damaged on disk, or edited outside reel: re-seal an intended edit with tools/torch_interop.py seal)");
  v.sealed = true;
  return v;
}

namespace {

// Everything a load or an inspection reads: every group, attribute and dataset.
void walk(const h5::Location& g, int depth, int64_t file_bytes) {
  if (depth > 16) throw h5::HDF5Error(g.describe() + ": groups nested more than 16 deep");
  for (const std::string& a : g.attr_names()) {
    try {
      g.attr_string(a);
    } catch (const h5::HDF5Error&) {
      try {
        g.attr_double(a);
      } catch (const h5::HDF5Error&) {
        g.attr_int(a);
      }
    }
  }
  for (const std::string& c : g.children()) {
    if (g.is_group(c)) {
      walk(g.group(c), depth + 1, file_bytes);
    } else if (g.is_dataset(c)) {
      const h5::DatasetInfo inf = g.info(c);
      if (h5::is_float(inf.dtype) && inf.elements() <= file_bytes) {  // never more values than the file has bytes
        std::vector<double> v(static_cast<size_t>(inf.elements()));
        g.read(c, v.data(), inf.elements());
      }
    }
  }
}

// An unsealed file (plain HDF5, as h5py writes it) is not verified by a CRC, and HDF5 itself can
// crash or hang on some malformed files. Such a file is first walked in a child process: if the
// child dies by a signal or takes more than 30 s, the file is refused; errors it raises are left
// for the real read to report.
void precheck_unsealed(const std::string& path, int64_t file_bytes) {
  const pid_t child = ::fork();
  if (child < 0) return;  // cannot isolate: read it directly, as before
  if (child == 0) {
    // The parent's crash handlers (a test framework's, a sanitizer's) are not the child's: a crash
    // here must end the child by its signal, which the parent reads.
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, SIG_DFL);
    ::alarm(30);
    // The isolation's own test (tests/test_checkpoint_robust.cpp): a child that crashes or hangs.
    if (const char* t = std::getenv("REEL_PRECHECK_SELFTEST")) {
      if (std::strcmp(t, "crash") == 0) ::raise(SIGSEGV);
      if (std::strcmp(t, "hang") == 0) ::pause();
    }
    try {
      h5::File f = h5::File::open(path);
      walk(f, 0, file_bytes);
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  for (int waited_ms = 0;; waited_ms += 5) {
    const pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r == child) break;
    if (r < 0) return;
    if (waited_ms > 31000) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      fail(path, "an unsealed HDF5 file that HDF5 could not read within 30 s: refused (re-seal a good copy: tools/torch_interop.py seal)");
    }
    ::usleep(5000);
  }
  if (WIFSIGNALED(status))
    fail(path, "an unsealed HDF5 file on which the HDF5 library crashed (signal " + std::to_string(WTERMSIG(status)) +
                   ") while it was checked in a separate process: refused (a damaged copy? re-seal a good one: tools/torch_interop.py seal)");
}

}  // namespace

h5::File open_verified(const std::string& path, Verified* info) {
  const Verified v = verify(path);
  if (info) *info = v;
  if (!v.sealed) precheck_unsealed(path, v.file_bytes);
  try {
    return h5::File::open(path);
  } catch (const h5::HDF5Error& e) {
    throw CheckpointError(e.what());  // "path: cannot open as an HDF5 file (HDF5: ...)"
  }
}

// A save replaces a regular file or creates one: a FIFO, device or directory at the path is refused,
// never replaced.
static void require_regular_target(const std::string& path) {
  struct stat sb {};
  if (::lstat(path.c_str(), &sb) == 0 && !S_ISREG(sb.st_mode))
    fail(path, std::string("cannot save a checkpoint here: the path exists and is not a regular file (") +
                   (S_ISFIFO(sb.st_mode) ? "a FIFO" : S_ISDIR(sb.st_mode) ? "a directory" : S_ISLNK(sb.st_mode) ? "a symbolic link" : S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ? "a device" : "a special file") + ")");
}

void write_atomically(const std::string& path, const std::function<void(h5::File&)>& fill) {
  require_regular_target(path);
  SaveLock lock(path, /*required=*/true);
  IgnoreFileSizeSignal no_sigxfsz;
  const std::string tmp = temp_path(path);
  try {
    h5::File f = h5::File::create(tmp, kSealBytes);
    fill(f);
    f.close();
    seal(tmp);  // fsyncs
  } catch (const h5::HDF5Error& e) {
    ::unlink(tmp.c_str());
    throw CheckpointError(path + ": cannot write the checkpoint: " + e.what());
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  rename_over(tmp, path);
}

void copy_atomically(const std::string& from, const std::string& to) {
  // A real copy, never a hard link: a file reel writes is no other path's alias, so editing or
  // damaging one (the latest) can never change another (the best, a rotation file).
  require_regular_target(to);
  SaveLock lock(to, /*required=*/true);
  IgnoreFileSizeSignal no_sigxfsz;
  const std::string tmp = temp_path(to);
  std::error_code ec;
  if (!fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec)) {
    ::unlink(tmp.c_str());
    fail(to, "cannot copy " + from + " to it: " + ec.message());
  }
  Fd f(::open(tmp.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0 || ::fsync(f.fd) != 0) {
    ::unlink(tmp.c_str());
    fail_errno(to, "cannot fsync the copy of " + from);
  }
  rename_over(tmp, to);
}

}  // namespace reel::checkpoint_file
