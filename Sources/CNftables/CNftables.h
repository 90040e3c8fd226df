// Umbrella header for libnftables, nftables' own library (Debian libnftables-dev).
#include <nftables/libnftables.h>
