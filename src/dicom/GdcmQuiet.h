#pragma once
// GDCM prints warnings and errors (e.g. "DICOM header said 16 bits but JPEG says 12") to
// stderr while it copes with them; ctdeface reports problems itself, one line
// per file, so those are switched off before GDCM reads anything.
namespace ctd {

void quietGdcm();

}  // namespace ctd
