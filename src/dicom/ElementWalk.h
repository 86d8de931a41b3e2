#pragma once
// Walks a data set's element headers (tags, VRs, lengths, nested items) from
// the file, without interpreting values, to find a file that ends inside an
// element. Debian's GDCM 3.0.21 has assertions on: after a parse error at the
// end of a truncated explicit-VR file it retries without clearing the stream
// and aborts in FileMetaInformation::ReadCompat (`is.good()`). A truncated
// file must therefore be refused before GDCM reads it.
#include <cstdint>
#include <filesystem>
#include <string>

namespace ctd {

enum class ElementEncoding { ExplicitLittle, ImplicitLittle, ExplicitBig, DeflatedExplicitLittle };

// Checks that every element from `start` to the end of the file lies wholly
// inside the file (values, sequences, items, encapsulated fragments). An
// element without a known VR in an explicit data set is read the way GDCM
// then retries it, with an implicit 4-byte length, which must fit too; a
// sequence must hold items and end with its delimiter. Only an
// undefined-length UN (implicit inside, CP-246) is left to GDCM unwalked.
// On false, `why` names the element and the offsets.
bool elementsFitInFile(const std::filesystem::path& file, std::uint64_t start, ElementEncoding encoding,
                       std::string& why);

}  // namespace ctd
