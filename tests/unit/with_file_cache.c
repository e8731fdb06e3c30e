/*
 * http_static.c calls the file cache, which stays off unless a thread enables it: unit
 * tests that include http_static.c link this, the real file_cache.c, not a stub.
 */
#include "../../src/file_cache.c"
