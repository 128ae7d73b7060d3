/* version.h — brink's version, one place for the CLI, the User-Agent and the proxy API. */
#ifndef BRINK_VERSION_H
#define BRINK_VERSION_H

#define BRINK_VERSION "0.1.0"

#endif
