#include "pipeline/Dicom2Nifti.h"

#include "core/Error.h"
#include "dicom/CaseDiscovery.h"
#include "dicom/SeriesAssembler.h"
#include "dicom/VolumeLoader.h"
#include "volume/NiftiIO.h"

namespace ctd {

std::vector<NiftiConversion> convertCaseToNifti(const std::filesystem::path& case_dir,
                                                const std::filesystem::path& out_dir, const std::string& extension) {
  if (extension != ".nii.gz" && extension != ".nii")
    throw Error(out_dir, "NIfTI extension must be .nii.gz or .nii, not '" + extension + "'");
  const Discovery found = discoverCases(case_dir);
  std::vector<NiftiConversion> written;
  for (const CaseInput& input : found.cases) {
    const std::filesystem::path dir = found.single_case || input.name.empty() ? out_dir : out_dir / input.name;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw Error(dir, "cannot create folder: " + ec.message());
    const CaseInventory inv = assembleCase(input);
    for (const SeriesStack& stack : inv.stacks) {
      const Volume v = loadVolume(inv, stack);
      NiftiConversion c;
      c.file = dir / (stack.name + extension);
      c.series = stack.name;
      c.resampled = writeNifti(v, c.file, NiftiPixel::Int16);
      written.push_back(std::move(c));
    }
  }
  return written;
}

}  // namespace ctd
