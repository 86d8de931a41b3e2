#include "dicom/DicomInstanceCodec.h"

#include <cstring>
#include <type_traits>

#include "core/Error.h"

namespace ctd {
namespace {

// A field added to DicomInstance or FrameInfo without a line here would be
// lost silently on the isolated path only: the sizes make the build fail
// instead (x86-64 / libstdc++, the platform ctdeface is built on).
static_assert(sizeof(void*) != 8 || sizeof(FrameInfo) == 136, "FrameInfo changed: update DicomInstanceCodec");
static_assert(sizeof(void*) != 8 || sizeof(DicomInstance) == 520, "DicomInstance changed: update DicomInstanceCodec");

class Writer {
 public:
  template <class T>
  void pod(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(const std::string& s) {
    pod<std::uint64_t>(s.size());
    out_ += s;
  }
  template <class T>
  void opt(const std::optional<T>& v) {
    pod<std::uint8_t>(v.has_value());
    if (v) pod(*v);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <class T>
  T pod() {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T));
    T v;
    std::memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
    return v;
  }
  std::string str() {
    const auto n = pod<std::uint64_t>();
    need(n);
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  template <class T>
  std::optional<T> opt() {
    if (!pod<std::uint8_t>()) return std::nullopt;
    return pod<T>();
  }
  bool done() const { return in_.empty(); }

 private:
  void need(std::uint64_t n) const {
    if (n > in_.size()) throw Error("header record from the isolated reader is cut short");
  }
  std::string_view in_;
};

}  // namespace

std::string encodeInstance(const DicomInstance& inst) {
  Writer w;
  w.str(inst.path.string());
  w.str(inst.relative.string());
  w.pod(inst.kind);
  w.str(inst.kind_reason);
  for (const std::string* s : {&inst.transfer_syntax, &inst.sop_class_uid, &inst.sop_instance_uid, &inst.study_uid,
                               &inst.series_uid, &inst.frame_of_reference_uid, &inst.modality,
                               &inst.series_description, &inst.photometric})
    w.str(*s);
  w.pod<std::uint64_t>(inst.image_type.size());
  for (const auto& s : inst.image_type) w.str(s);
  for (int v : {inst.series_number, inst.instance_number, inst.acquisition_number}) w.pod(v);
  w.pod(inst.has_pixel_data);
  for (std::uint16_t v : {inst.rows, inst.columns, inst.samples_per_pixel, inst.bits_allocated, inst.bits_stored,
                          inst.high_bit, inst.pixel_representation})
    w.pod(v);
  w.pod(inst.number_of_frames);
  w.pod<std::uint64_t>(inst.frames.size());
  for (const FrameInfo& f : inst.frames) {
    w.opt(f.position);
    w.opt(f.orientation);
    w.opt(f.pixel_spacing);
    w.pod(f.slope);
    w.pod(f.intercept);
    w.pod(f.slice_thickness);
  }
  w.pod(inst.pixel_data_offset);
  w.opt(inst.gantry_tilt);
  return w.take();
}

DicomInstance decodeInstance(std::string_view bytes) {
  Reader r(bytes);
  DicomInstance inst;
  inst.path = r.str();
  inst.relative = r.str();
  inst.kind = r.pod<InstanceKind>();
  inst.kind_reason = r.str();
  for (std::string* s : {&inst.transfer_syntax, &inst.sop_class_uid, &inst.sop_instance_uid, &inst.study_uid,
                         &inst.series_uid, &inst.frame_of_reference_uid, &inst.modality, &inst.series_description,
                         &inst.photometric})
    *s = r.str();
  const auto types = r.pod<std::uint64_t>();
  for (std::uint64_t k = 0; k < types; ++k) inst.image_type.push_back(r.str());
  for (int* v : {&inst.series_number, &inst.instance_number, &inst.acquisition_number}) *v = r.pod<int>();
  inst.has_pixel_data = r.pod<bool>();
  for (std::uint16_t* v : {&inst.rows, &inst.columns, &inst.samples_per_pixel, &inst.bits_allocated,
                           &inst.bits_stored, &inst.high_bit, &inst.pixel_representation})
    *v = r.pod<std::uint16_t>();
  inst.number_of_frames = r.pod<std::uint32_t>();
  const auto frames = r.pod<std::uint64_t>();
  // Each frame takes at least 27 bytes: a count beyond the record is corrupt.
  if (frames > bytes.size()) throw Error("header record from the isolated reader is corrupt");
  inst.frames.resize(frames);
  for (FrameInfo& f : inst.frames) {
    f.position = r.opt<Vec3>();
    f.orientation = r.opt<std::array<double, 6>>();
    f.pixel_spacing = r.opt<std::array<double, 2>>();
    f.slope = r.pod<double>();
    f.intercept = r.pod<double>();
    f.slice_thickness = r.pod<double>();
  }
  inst.pixel_data_offset = r.pod<std::uint64_t>();
  inst.gantry_tilt = r.opt<double>();
  if (!r.done()) throw Error("header record from the isolated reader has trailing bytes");
  return inst;
}

}  // namespace ctd
