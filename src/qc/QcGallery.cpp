#include "qc/QcGallery.h"

#include <iomanip>
#include <sstream>

#include "core/AtomicFile.h"

namespace ctd::qc {

std::string htmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string image(const std::string& rel, const std::string& alt) {
  if (rel.empty()) return "<span class=none>none</span>";
  // Paths are relative to the page and made of safe names (SeriesQc::safeName), but
  // still escaped: a case folder name ends up in them.
  return "<a href=\"" + htmlEscape(rel) + "\"><img src=\"" + htmlEscape(rel) + "\" alt=\"" + htmlEscape(alt) +
         "\" loading=eager></a>";
}

const char* kHead = R"(<!DOCTYPE html>
<html lang=en><head><meta charset=utf-8><title>ctdeface QC</title>
<style>
body{font:14px sans-serif;margin:1em;background:#fafafa;color:#222}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:4px;vertical-align:top;text-align:left}
th{background:#eee;cursor:pointer;user-select:none}
td img{max-width:440px;display:block}
td:nth-child(2){max-width:16em;word-break:break-all}
.failed td.status{color:#b00;font-weight:bold}
.face{color:#b00;font-weight:bold}
.noface{color:#070}
.none{color:#999}
#bar{margin-bottom:.8em}
</style></head><body>
<h1>ctdeface quality control</h1>
<p>Skin renders (front, obliques, sides) of every CT series before and after defacing, the face detector's answer
on each, and the mid-sagittal and one axial slice with the removed region outlined in red.
<b>The "before" pictures show the faces: this folder is for the curator, do not share it with the data.</b></p>
<div id=bar>Status: <select id=filter><option value="">all</option></select>
<span id=count></span></div>
<table id=qc><thead><tr><th data-k=0>case</th><th data-k=1>series</th><th data-k=2>status</th>
<th data-k=3>face before</th><th data-k=4>face after</th><th>before</th><th>after</th><th>slices (mask in red)</th>
<th data-k=8>render / detect s</th></tr></thead><tbody>
)";

const char* kTail = R"(</tbody></table>
<pre id=qc-selftest></pre>
<script>
(function(){
  var body=document.querySelector('#qc tbody'), sel=document.getElementById('filter');
  var rows=Array.prototype.slice.call(body.rows), seen={};
  rows.forEach(function(r){var s=r.dataset.status; if(!seen[s]){seen[s]=1;var o=document.createElement('option');o.value=o.textContent=s;sel.appendChild(o);}});
  function show(){var n=0;rows.forEach(function(r){var on=!sel.value||r.dataset.status===sel.value;r.style.display=on?'':'none';n+=on;});
    document.getElementById('count').textContent=n+' of '+rows.length+' series';}
  sel.onchange=show; show();
  var dir={};
  Array.prototype.forEach.call(document.querySelectorAll('th[data-k]'),function(th){th.onclick=function(){
    var k=+th.dataset.k; dir[k]=!dir[k];
    rows.sort(function(a,b){var x=a.cells[k].textContent,y=b.cells[k].textContent;
      var nx=parseFloat(x),ny=parseFloat(y); var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y); return dir[k]?c:-c;});
    rows.forEach(function(r){body.appendChild(r);});};});
  window.addEventListener('load',function(){
    var imgs=document.querySelectorAll('#qc img'), ok=0;
    Array.prototype.forEach.call(imgs,function(i){if(i.complete&&i.naturalWidth>0)ok++;});
    document.getElementById('qc-selftest').textContent=JSON.stringify({rows:rows.length,images:imgs.length,loaded:ok});
  });
})();
</script>
</body></html>
)";

}  // namespace

void writeGallery(const std::filesystem::path& qc_root, const std::vector<GalleryRow>& rows,
                  const std::string& file_name) {
  std::ostringstream h;
  h << kHead;
  for (const auto& r : rows) {
    const bool face_after = r.face_after.rfind("face", 0) == 0;
    const bool face_before = r.face_before.rfind("face", 0) == 0;
    h << "<tr class=\"" << htmlEscape(r.status) << "\" data-status=\"" << htmlEscape(r.status) << "\"><td>"
      << htmlEscape(r.case_name) << "</td><td>" << htmlEscape(r.series) << "</td><td class=status>"
      << htmlEscape(r.status) << (r.error.empty() ? "" : "<br><small>" + htmlEscape(r.error) + "</small>")
      << "</td><td class=" << (face_before ? "noface" : "face") << ">" << htmlEscape(r.face_before)
      << "</td><td class=" << (face_after ? "face" : "noface") << ">" << htmlEscape(r.face_after) << "</td><td>"
      << image(r.before_png, "before") << "</td><td>" << image(r.after_png, "after") << "</td><td>"
      << image(r.slices_png, "slices") << "</td><td>" << std::fixed << std::setprecision(2) << r.render_seconds
      << " / " << r.detect_seconds << "</td></tr>\n";
  }
  h << kTail;
  std::filesystem::create_directories(qc_root);
  writeFileAtomically(qc_root / file_name, h.str());
  // Said in the folder itself too: whoever copies OUT with its qc/ inside may
  // never open the page, and its "before" pictures are the patients' faces.
  writeFileAtomically(qc_root / "DO-NOT-SHARE.txt",
                      "This folder holds ctdeface's quality-control renders. The \"before\" pictures are 3D renders of\n"
                      "the original, identifiable faces. It is for the curator who signs the defacing off: do not\n"
                      "share it with the defaced data. (ctdeface --qc-out DIR writes it outside the output.)\n");
}

}  // namespace ctd::qc
