#include "segment/CoarseMorphology.h"

#include <itkBinaryBallStructuringElement.h>
#include <itkBinaryDilateImageFilter.h>
#include <itkBinaryErodeImageFilter.h>
#include <itkBinaryFillholeImageFilter.h>
#include <itkConnectedComponentImageFilter.h>
#include <itkImage.h>
#include <itkMeanImageFilter.h>
#include <itkRelabelComponentImageFilter.h>
#include <itkSignedMaurerDistanceMapImageFilter.h>
#include <itkSliceBySliceImageFilter.h>

#include <algorithm>

namespace ctd::coarse {
namespace {

using MaskImage = itk::Image<std::uint8_t, 3>;
using Mask2 = itk::Image<std::uint8_t, 2>;
using FloatImage = itk::Image<float, 3>;
using LabelImage = itk::Image<std::uint32_t, 3>;
using Ball = itk::BinaryBallStructuringElement<std::uint8_t, 3>;

template <class Image, class T>
typename Image::Pointer toItk(const std::vector<T>& data, const Grid& g) {
  auto img = Image::New();
  typename Image::RegionType region;
  region.SetSize({{g.nx, g.ny, g.nz}});
  img->SetRegions(region);
  const double sp[3] = {g.spacing, g.spacing, g.spacing};
  img->SetSpacing(sp);
  img->Allocate();
  std::copy(data.begin(), data.end(), img->GetBufferPointer());
  return img;
}

template <class T, class Image>
std::vector<T> fromItk(Image* img, const Grid& g) {
  const auto* p = img->GetBufferPointer();
  return std::vector<T>(p, p + g.size());
}

Ball ball(int radius) {
  Ball b;
  b.SetRadius(static_cast<unsigned long>(radius));
  b.CreateStructuringElement();
  return b;
}

}  // namespace

Bits dilate(const Bits& m, const Grid& g, int radius) {
  if (radius <= 0) return m;
  using F = itk::BinaryDilateImageFilter<MaskImage, MaskImage, Ball>;
  auto f = F::New();
  f->SetInput(toItk<MaskImage>(m, g));
  f->SetKernel(ball(radius));
  f->SetForegroundValue(1);
  f->SetBackgroundValue(0);
  f->Update();
  return fromItk<std::uint8_t>(f->GetOutput(), g);
}

Bits erode(const Bits& m, const Grid& g, int radius) {
  if (radius <= 0) return m;
  using F = itk::BinaryErodeImageFilter<MaskImage, MaskImage, Ball>;
  auto f = F::New();
  f->SetInput(toItk<MaskImage>(m, g));
  f->SetKernel(ball(radius));
  f->SetForegroundValue(1);
  f->SetBackgroundValue(0);
  // Voxels beyond the grid do not erode the mask (a head cut by the field of view stays whole).
  f->SetBoundaryToForeground(true);
  f->Update();
  return fromItk<std::uint8_t>(f->GetOutput(), g);
}

Bits open(const Bits& m, const Grid& g, int radius) { return dilate(erode(m, g, radius), g, radius); }
Bits close(const Bits& m, const Grid& g, int radius) { return erode(dilate(m, g, radius), g, radius); }

Components components(const Bits& m, const Grid& g) {
  using CC = itk::ConnectedComponentImageFilter<MaskImage, LabelImage>;
  using Relabel = itk::RelabelComponentImageFilter<LabelImage, LabelImage>;
  auto cc = CC::New();
  cc->SetInput(toItk<MaskImage>(m, g));
  cc->FullyConnectedOff();
  auto rl = Relabel::New();
  rl->SetInput(cc->GetOutput());
  rl->Update();
  Components c;
  c.label = fromItk<std::uint32_t>(rl->GetOutput(), g);
  for (auto s : rl->GetSizeOfObjectsInPixels()) c.sizes.push_back(s);
  return c;
}

Bits largestComponent(const Bits& m, const Grid& g) {
  const Components c = components(m, g);
  Bits out(m.size(), 0);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = c.label[i] == 1;
  return out;
}

Bits fillHolesPerSlice(const Bits& m, const Grid& g, unsigned dim) {
  using Fill2 = itk::BinaryFillholeImageFilter<Mask2>;
  using SBS = itk::SliceBySliceImageFilter<MaskImage, MaskImage, Fill2>;
  auto fill = Fill2::New();
  fill->SetForegroundValue(1);
  fill->FullyConnectedOff();
  auto sbs = SBS::New();
  sbs->SetInput(toItk<MaskImage>(m, g));
  sbs->SetFilter(fill);
  sbs->SetDimension(dim);
  sbs->Update();
  return fromItk<std::uint8_t>(sbs->GetOutput(), g);
}

std::vector<float> signedDistance(const Bits& m, const Grid& g) {
  using D = itk::SignedMaurerDistanceMapImageFilter<MaskImage, FloatImage>;
  auto d = D::New();
  d->SetInput(toItk<MaskImage>(m, g));
  d->SetUseImageSpacing(true);
  d->SetSquaredDistance(false);
  d->SetInsideIsPositive(false);
  d->SetBackgroundValue(0);
  d->Update();
  return fromItk<float>(d->GetOutput(), g);
}

std::vector<float> boxMean(const std::vector<float>& v, const Grid& g, int radius) {
  using M = itk::MeanImageFilter<FloatImage, FloatImage>;
  auto f = M::New();
  f->SetInput(toItk<FloatImage>(v, g));
  FloatImage::SizeType r;
  r.Fill(static_cast<unsigned long>(radius));
  f->SetRadius(r);
  f->Update();
  return fromItk<float>(f->GetOutput(), g);
}

}  // namespace ctd::coarse
