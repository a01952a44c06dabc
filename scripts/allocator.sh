# Sourced by the run scripts: train and decode with tcmalloc in place of glibc's malloc
# when the system has it (Debian/Ubuntu: apt-get install libtcmalloc-minimal4).
# Training steps run about 1.2x faster and peak memory falls from about 2.5 GB to
# 1.5 GB (docs/performance.md); the numbers computed are the same.
# SEQ2SEQ_MALLOC=system keeps glibc's malloc; an allocator already in LD_PRELOAD is kept.
case ${SEQ2SEQ_MALLOC:=tcmalloc} in
  tcmalloc | system) ;;
  *) echo "SEQ2SEQ_MALLOC must be tcmalloc or system, got '$SEQ2SEQ_MALLOC'" >&2; exit 2 ;;
esac
if [[ ${LD_PRELOAD:-} == *malloc* ]]; then
  echo "memory allocator: as preloaded ($LD_PRELOAD)"
elif [ "$SEQ2SEQ_MALLOC" = system ]; then
  echo "memory allocator: glibc malloc (SEQ2SEQ_MALLOC=system)"
else
  # awk reads the whole listing: stopping at the match would leave ldconfig writing into
  # a closed pipe, and its SIGPIPE ends a `set -o pipefail` script with exit 141.
  tcmalloc=$( { ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null |
    awk '$1 == "libtcmalloc_minimal.so.4" && !found { found = $NF } END { print found }')
  if [ -n "$tcmalloc" ]; then
    export LD_PRELOAD="$tcmalloc${LD_PRELOAD:+:$LD_PRELOAD}"
    echo "memory allocator: tcmalloc ($tcmalloc)"
  else
    echo "memory allocator: glibc malloc (apt-get install libtcmalloc-minimal4: ~1.2x faster training)"
  fi
fi
