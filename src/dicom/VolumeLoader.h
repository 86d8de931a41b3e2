#pragma once
// SeriesStack -> Volume in HU with the exact per-slice geometry.
#include "dicom/CaseInventory.h"
#include "volume/Volume.h"

namespace ctd {

Volume loadVolume(const CaseInventory& inv, const SeriesStack& stack);

}  // namespace ctd
