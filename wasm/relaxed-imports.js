// The relaxed build's main module imports these from its kernel module (src/kernels/relaxed.h),
// which scripts/merge-relaxed.mjs merges in after the link: the merged module imports neither.
// Declared here, under their import names, only so that Emscripten's link accepts the imports.
mergeInto(LibraryManager.library, {
  dot_probe: function () {
    abort('mnv2-relaxed: the kernel module was not merged (scripts/merge-relaxed.mjs)');
  },
  qgemm_tiles: function () {
    abort('mnv2-relaxed: the kernel module was not merged (scripts/merge-relaxed.mjs)');
  },
  qdw_interior: function () {
    abort('mnv2-relaxed: the kernel module was not merged (scripts/merge-relaxed.mjs)');
  },
  gemm_panel: function () {
    abort('mnv2-relaxed: the kernel module was not merged (scripts/merge-relaxed.mjs)');
  },
  gemm_gathered: function () {
    abort('mnv2-relaxed: the kernel module was not merged (scripts/merge-relaxed.mjs)');
  },
});
