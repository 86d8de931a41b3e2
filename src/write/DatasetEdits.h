#pragma once
// The only data element edits the write side makes besides PixelData
// (see docs/write-side.md). Internal to src/write: includes GDCM.
#include <gdcmDataSet.h>
#include <gdcmFile.h>
#include <gdcmTransferSyntax.h>

#include <string>

namespace ctd {

// IconImageSequence (0088,0200) and Smallest/Largest Image/Series PixelValue
// (0028,0106-0109) describe the old pixels; true if `ds` holds any of them.
bool hasPixelSummaries(const gdcm::DataSet& ds);
void dropPixelSummaries(gdcm::DataSet& ds);

// Extended Offset Table (7FE0,0001/0002) belongs to the old encapsulated stream.
void dropExtendedOffsetTable(gdcm::DataSet& ds);

// SOPInstanceUID in the data set and MediaStorageSOPInstanceUID in the file meta.
void setSopInstanceUid(gdcm::File& file, const std::string& uid);
void setSeriesInstanceUid(gdcm::DataSet& ds, const std::string& uid);

// ImageType (and Enhanced CT FrameType) DERIVED\SECONDARY, DerivationDescription,
// DerivationCodeSequence, DeidentificationMethod(+CodeSequence), RecognizableVisualFeatures NO.
void markDefaced(gdcm::DataSet& ds, const std::string& derivation_description);

// TransferSyntaxUID in the file meta (and the syntax GDCM writes the data set in).
void setTransferSyntax(gdcm::File& file, const gdcm::TransferSyntax& ts);

// (0002,0000) = byte count of the rest of group 2; needed after any meta edit.
void updateMetaGroupLength(gdcm::File& file);

}  // namespace ctd
