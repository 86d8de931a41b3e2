#include <cstring>
#include <stdexcept>
#include <unordered_map>

#include "nn/PickleValue.h"

namespace ctd::nn::pickle {
namespace {

using Kind = Value::Kind;

class Machine {
 public:
  explicit Machine(const std::string& bytes) : b_(bytes) {}

  ValuePtr run() {
    for (;;) {
      const std::uint8_t op = u8();
      switch (op) {
        case 0x80: u8(); break;                       // PROTO
        case 0x95: take(8); break;                    // FRAME
        case '.': {                                   // STOP
          if (stack_.size() != 1) fail("STOP with " + std::to_string(stack_.size()) + " values on the stack");
          return pop();
        }
        case '(': push(Value::make(Kind::Mark)); break;
        case '0': pop(); break;
        case '1': popMark(); break;
        case '2': push(top()); break;
        case 'N': push(Value::make(Kind::None)); break;
        case 0x88: push(boolean(true)); break;
        case 0x89: push(boolean(false)); break;
        case 'J': push(integer(static_cast<std::int32_t>(le(4)))); break;
        case 'K': push(integer(static_cast<std::int64_t>(le(1)))); break;
        case 'M': push(integer(static_cast<std::int64_t>(le(2)))); break;
        case 0x8a: push(longInt(le(1))); break;       // LONG1
        case 0x8b: push(longInt(le(4))); break;       // LONG4
        case 'G': {                                   // BINFLOAT, big-endian
          std::uint64_t bits = 0;
          for (unsigned char c : take(8)) bits = (bits << 8) | c;
          auto v = Value::make(Kind::Float);
          std::memcpy(&v->f, &bits, sizeof bits);
          push(v);
          break;
        }
        case 'X': push(text(Kind::Str, le(4))); break;
        case 0x8c: push(text(Kind::Str, le(1))); break;
        case 0x8d: push(text(Kind::Str, le(8))); break;
        case 'T': push(text(Kind::Str, le(4))); break;   // py2 str
        case 'U': push(text(Kind::Str, le(1))); break;
        case 'B': push(text(Kind::Bytes, le(4))); break;
        case 'C': push(text(Kind::Bytes, le(1))); break;
        case 0x8e: push(text(Kind::Bytes, le(8))); break;
        case 0x96: push(text(Kind::Bytes, le(8))); break;  // BYTEARRAY8
        case ')': push(Value::make(Kind::Tuple)); break;
        case ']': push(Value::make(Kind::List)); break;
        case '}': push(Value::make(Kind::Dict)); break;
        case 0x8f: push(Value::make(Kind::Set)); break;
        case 't': push(sequence(Kind::Tuple, popMark())); break;
        case 'l': push(sequence(Kind::List, popMark())); break;
        case 0x91: push(sequence(Kind::Set, popMark())); break;  // FROZENSET
        case 0x85: case 0x86: case 0x87: {
          std::vector<ValuePtr> items(op - 0x84);
          for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
          push(sequence(Kind::Tuple, std::move(items)));
          break;
        }
        case 'd': {
          auto d = Value::make(Kind::Dict);
          addPairs(*d, popMark());
          push(d);
          break;
        }
        case 'a': {
          auto v = pop();
          extend(*top(), {v});
          break;
        }
        case 'e': case 0x90: {                        // APPENDS, ADDITEMS
          auto items = popMark();
          extend(*top(), std::move(items));
          break;
        }
        case 's': {
          auto v = pop();
          auto k = pop();
          addPairs(*top(), {k, v});
          break;
        }
        case 'u': {
          auto items = popMark();
          addPairs(*top(), std::move(items));
          break;
        }
        case 'q': memo_[le(1)] = top(); break;
        case 'r': memo_[le(4)] = top(); break;
        case 0x94: memo_[memo_.size()] = top(); break;  // MEMOIZE
        case 'h': push(memo(le(1))); break;
        case 'j': push(memo(le(4))); break;
        case 'c': {                                   // GLOBAL "module\nname\n"
          std::string module = line();
          std::string name = line();
          push(global(module, name));
          break;
        }
        case 0x93: {                                  // STACK_GLOBAL
          auto name = pop();
          auto module = pop();
          if (name->kind != Kind::Str || module->kind != Kind::Str) fail("STACK_GLOBAL needs two strings");
          push(global(module->s, name->s));
          break;
        }
        case 'R': {
          auto args = pop();
          auto callable = pop();
          push(reduce(*callable, *args));
          break;
        }
        case 0x81: {                                  // NEWOBJ cls args
          pop();
          auto cls = pop();
          push(opaque(cls));
          break;
        }
        case 0x92: {                                  // NEWOBJ_EX cls args kwargs
          pop();
          pop();
          auto cls = pop();
          push(opaque(cls));
          break;
        }
        case 'b': pop(); top(); break;                // BUILD: object state is never needed
        case 'Q': push(persistent(*pop())); break;    // BINPERSID
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          fail(std::string("unsupported pickle opcode ") + hex);
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error("malformed pickle at byte " + std::to_string(pos_) + ": " + why);
  }

  std::uint8_t u8() {
    if (pos_ >= b_.size()) throw std::runtime_error("pickle ends early (truncated data.pkl)");
    return static_cast<std::uint8_t>(b_[pos_++]);
  }
  std::string take(std::uint64_t n) {
    if (n > b_.size() - pos_) throw std::runtime_error("pickle ends early (truncated data.pkl)");
    std::string out = b_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::uint64_t le(int n) {
    std::uint64_t v = 0;
    const std::string bytes = take(static_cast<std::uint64_t>(n));
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(k)]);
    return v;
  }
  std::string line() {
    const auto nl = b_.find('\n', pos_);
    if (nl == std::string::npos) throw std::runtime_error("pickle ends early (truncated data.pkl)");
    std::string out = b_.substr(pos_, nl - pos_);
    pos_ = nl + 1;
    return out;
  }

  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr pop() {
    if (stack_.empty()) fail("stack underflow");
    auto v = std::move(stack_.back());
    stack_.pop_back();
    if (v->kind == Kind::Mark) fail("unexpected MARK");
    return v;
  }
  const ValuePtr& top() const {
    if (stack_.empty()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<ValuePtr> popMark() {
    for (std::size_t k = stack_.size(); k-- > 0;) {
      if (stack_[k]->kind == Kind::Mark) {
        std::vector<ValuePtr> items(stack_.begin() + static_cast<std::ptrdiff_t>(k) + 1, stack_.end());
        stack_.resize(k);
        return items;
      }
    }
    fail("no MARK on the stack");
  }
  ValuePtr memo(std::uint64_t key) const {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail("memo key " + std::to_string(key) + " was never stored");
    return it->second;
  }

  static ValuePtr boolean(bool b) {
    auto v = Value::make(Kind::Bool);
    v->i = b;
    return v;
  }
  static ValuePtr integer(std::int64_t i) {
    auto v = Value::make(Kind::Int);
    v->i = i;
    return v;
  }
  ValuePtr longInt(std::uint64_t n) {
    const std::string bytes = take(n);
    if (n > 8) return Value::make(Kind::Opaque);  // a Python int beyond 64 bits: never part of a state_dict
    std::uint64_t u = 0;
    for (std::size_t k = n; k-- > 0;) u = (u << 8) | static_cast<unsigned char>(bytes[k]);
    if (n > 0 && n < 8 && (static_cast<unsigned char>(bytes[n - 1]) & 0x80)) u |= ~std::uint64_t{0} << (8 * n);
    return integer(static_cast<std::int64_t>(u));
  }
  ValuePtr text(Kind k, std::uint64_t n) {
    auto v = Value::make(k);
    v->s = take(n);
    return v;
  }
  static ValuePtr sequence(Kind k, std::vector<ValuePtr> items) {
    auto v = Value::make(k);
    v->items = std::move(items);
    return v;
  }
  static ValuePtr global(const std::string& module, const std::string& name) {
    auto v = Value::make(Kind::Global);
    v->s = module + "." + name;
    return v;
  }
  static ValuePtr opaque(const ValuePtr& cls) {
    auto v = Value::make(Kind::Opaque);
    if (cls->kind == Kind::Global) v->s = cls->s;
    return v;
  }

  void extend(Value& target, std::vector<ValuePtr> items) {
    if (target.kind == Kind::List || target.kind == Kind::Set) {
      for (auto& i : items) target.items.push_back(std::move(i));
    } else if (target.kind != Kind::Opaque) {
      fail("APPEND to a non-list");
    }
  }
  void addPairs(Value& target, std::vector<ValuePtr> items) {
    if (items.size() % 2) fail("odd number of dict items");
    if (target.kind == Kind::Dict) {
      for (std::size_t k = 0; k < items.size(); k += 2) target.dict.emplace_back(items[k], items[k + 1]);
    } else if (target.kind != Kind::Opaque) {
      fail("SETITEM on a non-dict");
    }
  }

  static std::int64_t asInt(const Value& v, const char* what) {
    if (v.kind != Kind::Int) throw std::runtime_error(std::string("tensor ") + what + " is not an integer");
    return v.i;
  }
  static std::vector<std::int64_t> intTuple(const Value& v, const char* what) {
    if (v.kind != Kind::Tuple && v.kind != Kind::List) throw std::runtime_error(std::string("tensor ") + what + " is not a tuple");
    std::vector<std::int64_t> out;
    for (const auto& i : v.items) out.push_back(asInt(*i, what));
    return out;
  }

  ValuePtr reduce(const Value& callable, const Value& args) {
    if (callable.kind != Kind::Global) return Value::make(Kind::Opaque);
    const std::string& fn = callable.s;
    if (fn == "collections.OrderedDict" || fn == "builtins.dict" || fn == "__builtin__.dict") {
      auto d = Value::make(Kind::Dict);
      if (args.kind == Kind::Tuple && !args.items.empty() && args.items[0]->kind == Kind::Dict) d->dict = args.items[0]->dict;
      return d;
    }
    if (fn == "torch._utils._rebuild_tensor_v2" || fn == "torch._utils._rebuild_tensor") {
      if (args.kind != Kind::Tuple || args.items.size() < 4) fail("_rebuild_tensor_v2 needs (storage, offset, size, stride, ...)");
      const Value& storage = *args.items[0];
      if (storage.kind != Kind::Storage) fail("_rebuild_tensor_v2 storage is not a persistent storage id");
      auto t = Value::make(Kind::Tensor);
      t->tensor = storage.tensor;
      t->tensor.offset = asInt(*args.items[1], "storage offset");
      t->tensor.size = intTuple(*args.items[2], "size");
      t->tensor.stride = intTuple(*args.items[3], "stride");
      if (t->tensor.size.size() != t->tensor.stride.size()) fail("tensor size and stride differ in rank");
      return t;
    }
    if (fn == "torch._utils._rebuild_parameter" || fn == "torch._utils._rebuild_parameter_with_state") {
      if (args.kind == Kind::Tuple && !args.items.empty()) return args.items[0];
      fail("_rebuild_parameter without arguments");
    }
    return opaque(std::make_shared<Value>(callable));
  }

  ValuePtr persistent(const Value& pid) {
    // ('storage', torch.FloatStorage, '<key>', 'cpu', numel)
    if (pid.kind != Kind::Tuple || pid.items.size() < 5 || pid.items[0]->kind != Kind::Str || pid.items[0]->s != "storage")
      return Value::make(Kind::Opaque);
    const Value& type = *pid.items[1];
    const Value& key = *pid.items[2];
    if (type.kind != Kind::Global || key.kind != Kind::Str) fail("storage id without a type or key");
    auto v = Value::make(Kind::Storage);
    const auto dot = type.s.rfind('.');
    v->tensor.storage_type = dot == std::string::npos ? type.s : type.s.substr(dot + 1);
    v->tensor.storage_key = key.s;
    v->tensor.storage_numel = asInt(*pid.items[4], "storage size");
    return v;
  }

  const std::string& b_;
  std::size_t pos_ = 0;
  std::vector<ValuePtr> stack_;
  std::unordered_map<std::uint64_t, ValuePtr> memo_;
};

}  // namespace

ValuePtr unpickle(const std::string& bytes) { return Machine(bytes).run(); }

}  // namespace ctd::nn::pickle
