#pragma once
namespace ctd {
inline constexpr const char* kVersion = "0.1.0";
}
