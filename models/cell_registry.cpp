#include "models/cell_registry.h"

#include <algorithm>
#include <map>
#include <mutex>

namespace reel {

// The built-in cells live in the library archive, whose object files the linker only pulls in
// when something refers to them: each registers from a function named here. A user's cell, in
// its own file of the user's program, registers itself with REEL_REGISTER_CELL.
namespace detail {
void register_vanilla_cell();
void register_lstm_cell();
void register_gru_cell();
}  // namespace detail

namespace {

struct Entry {
  CellFactory<float> f32 = nullptr;
  CellFactory<double> f64 = nullptr;
};

std::map<std::string, Entry>& table() {
  static std::map<std::string, Entry> t;
  return t;
}
std::mutex& table_mutex() {
  static std::mutex m;
  return m;
}

void ensure_builtins() {
  static std::once_flag once;
  std::call_once(once, [] {
    detail::register_vanilla_cell();
    detail::register_lstm_cell();
    detail::register_gru_cell();
  });
}

template <class T>
CellFactory<T> pick(const Entry& e);
template <>
CellFactory<float> pick<float>(const Entry& e) { return e.f32; }
template <>
CellFactory<double> pick<double>(const Entry& e) { return e.f64; }

}  // namespace

void register_cell(const std::string& name, CellFactory<float> f32, CellFactory<double> f64) {
  if (name.empty() || name.find_first_of("/. ") != std::string::npos)
    throw UsageError("register_cell: the name '" + name + "' must be non-empty, without '/', '.' or spaces");
  std::lock_guard<std::mutex> lock(table_mutex());
  auto [it, fresh] = table().emplace(name, Entry{f32, f64});
  (void)it;
  if (!fresh) throw UsageError("register_cell: a cell named '" + name + "' is already registered");
}

std::vector<std::string> cell_types() {
  ensure_builtins();
  std::lock_guard<std::mutex> lock(table_mutex());
  std::vector<std::string> names;
  for (const auto& [name, e] : table()) names.push_back(name);
  return names;
}

bool has_cell(const std::string& name) {
  ensure_builtins();
  std::lock_guard<std::mutex> lock(table_mutex());
  return table().count(name) > 0;
}

void require_cell(const std::string& name) {
  if (has_cell(name)) return;
  std::string known;
  for (const auto& n : cell_types()) known += (known.empty() ? "" : ", ") + n;
  throw UsageError("unknown cell '" + name + "' (registered: " + known + ")");
}

template <class T>
std::unique_ptr<Cell<T>> make_cell(ParameterStore<T>& store, const CellConfig& config, Rng& rng,
                                   const std::string& prefix) {
  require_cell(config.type);
  CellFactory<T> f = nullptr;
  {
    std::lock_guard<std::mutex> lock(table_mutex());
    f = pick<T>(table().at(config.type));
  }
  if (!f) throw UsageError("cell '" + config.type + "' was registered without a factory for this precision");
  return f(store, config, rng, prefix);
}

template std::unique_ptr<Cell<float>> make_cell(ParameterStore<float>&, const CellConfig&, Rng&, const std::string&);
template std::unique_ptr<Cell<double>> make_cell(ParameterStore<double>&, const CellConfig&, Rng&, const std::string&);

}  // namespace reel
