#pragma once
/// \file
/// Cells by name: make_cell({"lstm", in, hidden}, ...) builds any registered cell. The built-in
/// cells are "rnn" (vanilla, tanh or relu), "lstm" and "gru"; a cell of your own registers itself
/// from its own file:
///
/// \code
///   template <class T> class MinimalGRU : public Cell<T> { ... };   // constructor (store, config, rng, prefix)
///   REEL_REGISTER_CELL("mingru", MinimalGRU);
/// \endcode
///
/// and is then usable everywhere a cell name is: SequenceRunner, the sequence models, the memory
/// strategies, checkpoints (a model is rebuilt from the name saved in the file).
#include <memory>
#include <string>
#include <vector>

#include "models/cell.h"

namespace reel {

/// A function that builds a cell of one type: (store, config, rng, prefix), as make_cell takes them.
template <class T>
using CellFactory = std::unique_ptr<Cell<T>> (*)(ParameterStore<T>&, const CellConfig&, Rng&, const std::string& prefix);

/// Registers a cell type (both precisions). Throws UsageError if the name is taken.
void register_cell(const std::string& name, CellFactory<float> f32, CellFactory<double> f64);
/// The registered names, sorted.
std::vector<std::string> cell_types();
bool has_cell(const std::string& name);  ///< whether a cell type of that name is registered
/// Throws UsageError naming the unknown cell and the registered ones.
void require_cell(const std::string& name);

/// Builds config.type with its parameters registered under prefix (e.g. "rnn", "rnn.l1_reverse").
/// An unknown type throws UsageError listing the registered ones.
template <class T>
std::unique_ptr<Cell<T>> make_cell(ParameterStore<T>& store, const CellConfig& config, Rng& rng,
                                   const std::string& prefix);

namespace detail {
template <class C>
std::unique_ptr<Cell<typename C::value_type>> construct_cell(ParameterStore<typename C::value_type>& store,
                                                             const CellConfig& config, Rng& rng,
                                                             const std::string& prefix) {
  return std::make_unique<C>(store, config, rng, prefix);
}
template <template <class> class C>
bool register_cell_template(const char* name) {
  register_cell(name, &construct_cell<C<float>>, &construct_cell<C<double>>);
  return true;
}
}  // namespace detail

}  // namespace reel

#define REEL_CELL_CONCAT2(a, b) a##b
#define REEL_CELL_CONCAT(a, b) REEL_CELL_CONCAT2(a, b)
/// At namespace scope in the cell's own .cpp file; the class template needs `using value_type = T;`.
#define REEL_REGISTER_CELL(NAME, TEMPLATE)                                                  \
  static const bool REEL_CELL_CONCAT(reel_cell_registered_, __LINE__) [[maybe_unused]] = \
      ::reel::detail::register_cell_template<TEMPLATE>(NAME)
