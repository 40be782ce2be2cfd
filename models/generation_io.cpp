#include "models/generation_io.h"

#include <type_traits>

#include "data/vocab_io.h"
#include "models/model_io.h"

namespace reel {
namespace {

template <class F>
auto in_file(const AttributeGroup& g, F&& read) {
  try {
    return read();
  } catch (const UsageError& e) {
    throw CheckpointError((g.file().empty() ? "" : g.file() + ": ") + "/" + g.name() + " describes no valid model: " + e.what());
  }
}

bool get_bool(const AttributeGroup& g, const char* key) {
  const int64_t v = g.get_int(key);
  if (v != 0 && v != 1) throw CheckpointError(g.where(key) + ": " + std::to_string(v) + ", expected 0 or 1");
  return v == 1;
}

void require_kind(const AttributeGroup& g, const char* want, const char* loader) {
  const std::string kind = g.get_string("kind");
  if (kind != want)
    throw CheckpointError((g.file().empty() ? std::string() : g.file() + ": ") + "a checkpoint of a " + kind + ", not of a " + want +
                          (kind == "classifier" || kind == "tagger" ? std::string(" (load it with load_model)")
                           : kind == "seq2seq"                      ? std::string(" (load it with load_seq2seq)")
                           : kind == "generator"                    ? std::string(" (load it with load_generator)")
                                                                    : std::string()) +
                          "; " + loader + " reads " + want + " checkpoints");
}

template <class T>
void check_dtype(const CheckpointMeta& meta) {
  constexpr const char* want = std::is_same_v<T, float> ? "float32" : "float64";
  if (meta.dtype != want)
    throw CheckpointError(meta.path + ": holds " + meta.dtype + " values; load it with T = " +
                          (meta.dtype == "float32" ? "float" : "double") + " (reel does not convert precision)");
}

Vocab table(const CheckpointMeta& meta, const char* group, int64_t size, const char* field) {
  const AttributeGroup* g = meta.find(group);
  if (!g) throw CheckpointError(meta.path + ": the /" + std::string(group) + " group (the model's symbol table) is missing");
  Vocab v = vocab_from_group(*g);
  if (v.size() != size)
    throw CheckpointError(meta.path + ": /" + group + " holds " + std::to_string(v.size()) + " symbols, /config@" + field + " says " +
                          std::to_string(size));
  return v;
}

}  // namespace

AttributeGroup seq2seq_config_group(const Seq2SeqConfig& c) {
  c.validate();
  AttributeGroup g;
  g.set_origin("", kModelConfigGroup);
  g.set("kind", "seq2seq").set("src_vocab", c.src_vocab).set("tgt_vocab", c.tgt_vocab).set("bos", c.bos).set("eos", c.eos);
  g.set("embed_dim", c.embed_dim).set("hidden_dim", c.hidden_dim).set("decoder_hidden", c.decoder_hidden);
  g.set("cell", c.cell).set("activation", c.activation).set("num_layers", c.num_layers);
  g.set("bidirectional", static_cast<int64_t>(c.bidirectional)).set("attention", static_cast<int64_t>(c.attention));
  return g;
}

Seq2SeqConfig seq2seq_config_from_group(const AttributeGroup& g) {
  require_kind(g, "seq2seq", "load_seq2seq");
  Seq2SeqConfig c;
  c.src_vocab = g.get_int("src_vocab");
  c.tgt_vocab = g.get_int("tgt_vocab");
  c.bos = g.get_int("bos");
  c.eos = g.get_int("eos");
  c.embed_dim = g.get_int("embed_dim");
  c.hidden_dim = g.get_int("hidden_dim");
  c.decoder_hidden = g.get_int("decoder_hidden");
  c.cell = g.get_string("cell");
  c.activation = g.get_string("activation");
  c.num_layers = g.get_int("num_layers");
  c.bidirectional = get_bool(g, "bidirectional");
  c.attention = get_bool(g, "attention");
  in_file(g, [&] {
    c.validate();
    return 0;
  });
  return c;
}

AttributeGroup generator_config_group(const GeneratorConfig& c, const std::vector<std::string>& categories) {
  c.validate();
  if (static_cast<int64_t>(categories.size()) != c.num_categories)
    throw UsageError("generator_config_group: " + std::to_string(categories.size()) + " category names for num_categories " +
                     std::to_string(c.num_categories));
  AttributeGroup g;
  g.set_origin("", kModelConfigGroup);
  g.set("kind", "generator").set("vocab", c.vocab).set("bos", c.bos).set("eos", c.eos);
  g.set("num_categories", c.num_categories).set("context_dim", c.context_dim).set("embed_dim", c.embed_dim);
  g.set("hidden_dim", c.hidden_dim).set("cell", c.cell).set("activation", c.activation).set("num_layers", c.num_layers);
  if (!categories.empty()) g.set_strings("categories", categories);
  return g;
}

GeneratorConfig generator_config_from_group(const AttributeGroup& g, std::vector<std::string>* categories) {
  require_kind(g, "generator", "load_generator");
  GeneratorConfig c;
  c.vocab = g.get_int("vocab");
  c.bos = g.get_int("bos");
  c.eos = g.get_int("eos");
  c.num_categories = g.get_int("num_categories");
  c.context_dim = g.get_int("context_dim");
  c.embed_dim = g.get_int("embed_dim");
  c.hidden_dim = g.get_int("hidden_dim");
  c.cell = g.get_string("cell");
  c.activation = g.get_string("activation");
  c.num_layers = g.get_int("num_layers");
  in_file(g, [&] {
    c.validate();
    return 0;
  });
  std::vector<std::string> names;
  if (c.num_categories > 0) names = g.get_strings("categories");
  if (static_cast<int64_t>(names.size()) != c.num_categories)
    throw CheckpointError(g.where("categories") + ": " + std::to_string(names.size()) + " names for num_categories " +
                          std::to_string(c.num_categories));
  if (categories) *categories = std::move(names);
  return c;
}

std::string model_kind_of(const CheckpointMeta& meta) { return meta.group(kModelConfigGroup).get_string("kind"); }

std::string describe_seq2seq(const Seq2SeqConfig& c) {
  std::string s = "seq2seq: " + std::to_string(c.src_vocab) + " symbols -> embedding " + std::to_string(c.embed_dim) + " -> " + c.cell +
                  " encoder, " + std::to_string(c.num_layers) + (c.num_layers == 1 ? " layer" : " layers");
  s += (c.bidirectional ? ", bidirectional" : "") + std::string(", hidden ") + std::to_string(c.hidden_dim);
  s += c.attention ? " -> attention" : "";
  return s + " -> " + c.cell + " decoder " + std::to_string(c.decoder_dim()) + " -> " + std::to_string(c.tgt_vocab) + " symbols";
}

std::string describe_generator(const GeneratorConfig& c) {
  std::string s = "generator: ";
  s += c.num_categories > 0 ? std::to_string(c.num_categories) + " categories -> context " : "features ";
  s += std::to_string(c.context_dim) + " -> " + c.cell + ", " + std::to_string(c.num_layers) + (c.num_layers == 1 ? " layer" : " layers");
  return s + ", hidden " + std::to_string(c.hidden_dim) + " -> " + std::to_string(c.vocab) + " symbols";
}

std::string describe_any_model(const CheckpointSummary& s) {
  auto it = s.groups.find(kModelConfigGroup);
  if (it == s.groups.end()) throw CheckpointError(s.path + ": the /config group is missing (not a model's checkpoint)");
  const std::string kind = it->second.has("kind") ? it->second.get_string("kind") : "";
  if (kind == "seq2seq") return describe_seq2seq(seq2seq_config_from_group(it->second));
  if (kind == "generator") return describe_generator(generator_config_from_group(it->second));
  return describe_model(model_config_of(s));
}

AttributeGroups seq2seq_groups(const Seq2SeqConfig& config, const Vocab& source, const Vocab& target) {
  if (source.size() != config.src_vocab || target.size() != config.tgt_vocab)
    throw UsageError("seq2seq_groups: symbol tables of " + std::to_string(source.size()) + " and " + std::to_string(target.size()) +
                     " for src_vocab " + std::to_string(config.src_vocab) + " and tgt_vocab " + std::to_string(config.tgt_vocab));
  AttributeGroups groups{{kModelConfigGroup, seq2seq_config_group(config)}};
  groups.emplace(kSourceVocabGroup, vocab_group(source)).first->second.set_origin("", kSourceVocabGroup);
  groups.emplace(kTargetVocabGroup, vocab_group(target)).first->second.set_origin("", kTargetVocabGroup);
  return groups;
}

AttributeGroups generator_groups(const GeneratorConfig& config, const Vocab& symbols, const std::vector<std::string>& categories) {
  if (symbols.size() != config.vocab)
    throw UsageError("generator_groups: a symbol table of " + std::to_string(symbols.size()) + " for vocab " + std::to_string(config.vocab));
  AttributeGroups groups{{kModelConfigGroup, generator_config_group(config, categories)}};
  groups.emplace(kVocabGroup, vocab_group(symbols));
  return groups;
}

template <class T>
void save_seq2seq(const std::string& path, const ParameterStore<T>& store, ConstOptimizerPtr<T> opt, const TrainingState& state,
                  const Seq2SeqConfig& config, const Vocab& source, const Vocab& target) {
  save_checkpoint(path, store, opt, state, seq2seq_groups(config, source, target));
}

template <class T>
LoadedSeq2Seq<T> load_seq2seq(const std::string& path) {
  const CheckpointMeta meta = read_checkpoint_meta(path);
  LoadedSeq2Seq<T> m;
  m.config = seq2seq_config_from_group(meta.group(kModelConfigGroup));
  check_dtype<T>(meta);
  m.source = table(meta, kSourceVocabGroup, m.config.src_vocab, "src_vocab");
  m.target = table(meta, kTargetVocabGroup, m.config.tgt_vocab, "tgt_vocab");
  m.store = std::make_unique<ParameterStore<T>>();
  Rng rng(0);  // overwritten by the file's values
  m.model = std::make_unique<EncoderDecoder<T>>(*m.store, m.config, rng);
  load_checkpoint(path, *m.store, nullptr, &m.state, true);
  return m;
}

template <class T>
void save_generator(const std::string& path, const ParameterStore<T>& store, ConstOptimizerPtr<T> opt, const TrainingState& state,
                    const GeneratorConfig& config, const Vocab& symbols, const std::vector<std::string>& categories) {
  save_checkpoint(path, store, opt, state, generator_groups(config, symbols, categories));
}

template <class T>
LoadedGenerator<T> load_generator(const std::string& path) {
  const CheckpointMeta meta = read_checkpoint_meta(path);
  LoadedGenerator<T> m;
  m.config = generator_config_from_group(meta.group(kModelConfigGroup), &m.categories);
  check_dtype<T>(meta);
  m.symbols = table(meta, kVocabGroup, m.config.vocab, "vocab");
  m.store = std::make_unique<ParameterStore<T>>();
  Rng rng(0);
  m.model = std::make_unique<Generator<T>>(*m.store, m.config, rng);
  load_checkpoint(path, *m.store, nullptr, &m.state, true);
  return m;
}

#define REEL_GENERATION_IO_INSTANTIATE(T)                                                                                   \
  template void save_seq2seq<T>(const std::string&, const ParameterStore<T>&, const Optimizer<T>*, const TrainingState&,   \
                                const Seq2SeqConfig&, const Vocab&, const Vocab&);                                         \
  template LoadedSeq2Seq<T> load_seq2seq<T>(const std::string&);                                                           \
  template void save_generator<T>(const std::string&, const ParameterStore<T>&, const Optimizer<T>*, const TrainingState&, \
                                  const GeneratorConfig&, const Vocab&, const std::vector<std::string>&);                  \
  template LoadedGenerator<T> load_generator<T>(const std::string&);
REEL_GENERATION_IO_INSTANTIATE(float)
REEL_GENERATION_IO_INSTANTIATE(double)

}  // namespace reel
