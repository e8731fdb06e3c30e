/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for host_normalize() (src/host.c), the Host key virtual hosts are
 * chosen by. Input: the field value.
 *
 * Beyond ASan/UBSan it checks what the key promises: NUL-terminated at its length, at
 * most HOST_NAME_MAX_LEN bytes, only lower-case DNS bytes (or a bracketed IP literal),
 * no empty label, no final dot; and that a key is its own key (normalizing it again
 * changes nothing), and that a port never changes the key. Any breach abort()s.
 */
#include <stdlib.h>
#include <string.h>

#include "../src/host.c"

static void check(bool cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const char *data, unsigned long size)
{
	char key[HOST_NAME_MAX_LEN + 2], again[HOST_NAME_MAX_LEN + 2], port[HOST_NAME_MAX_LEN + 16];
	ssize_t n = host_normalize(data, size, key, sizeof(key));

	check(n == -400 || (n >= 0 && n <= HOST_NAME_MAX_LEN));
	if (n <= 0)
		return 0;
	check(key[n] == '\0' && strlen(key) == (size_t)n);
	if (key[0] == '[') {
		check(key[n - 1] == ']');
		for (ssize_t i = 1; i < n - 1; i++)
			check(strchr("0123456789abcdef:.", key[i]) != NULL);
	} else {
		check(key[0] != '.' && key[n - 1] != '.' && !strstr(key, ".."));
		for (ssize_t i = 0; i < n; i++)
			check(strchr("abcdefghijklmnopqrstuvwxyz0123456789-_.", key[i]) != NULL);
	}
	check(host_normalize(key, (size_t)n, again, sizeof(again)) == n &&
	      strcmp(again, key) == 0);
	memcpy(port, key, (size_t)n);
	memcpy(port + n, ":8080", 5);
	check(host_normalize(port, (size_t)n + 5, again, sizeof(again)) == n &&
	      strcmp(again, key) == 0);
	return 0;
}
