// The few C library names the PolyV kernels use (fixed-width integers, INFINITY), for both compilers:
// nvcc gets them from the host headers; NVRTC has no host headers (an #include <stdint.h> or <math.h>
// there is a fatal "cannot open source file"), so they are defined here. expf, fmaxf and size_t are
// built into both.
#pragma once

#ifdef __CUDACC_RTC__
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
#else
#include <math.h>
#include <stdint.h>
#endif
