/* Bare-metal driver example for the MRAM VMM macro: control side (see mram_vmm.c). */
#ifndef MRAM_VMM_H
#define MRAM_VMM_H

#include <stdint.h>

#include "mram_macro_regs.h"

enum {
    MRAM_OK = 0,
    MRAM_ERR_NO_MACRO = -1,     /* ID register does not read "MRAM" */
    MRAM_ERR_GEOMETRY = -2,     /* hardware built with another rows/cols than this header */
    MRAM_ERR_RANGE = -3,        /* argument outside the register's range */
    MRAM_ERR_WRITE_FAILED = -4  /* write-verify left wrong cells (see WV_FAIL_*) */
};

int mram_probe(void);
/* Program row `row` with one weight bit per column (column 32*i+b in bit b of weights[i],
 * 1 = +1); returns once the command is issued. */
int mram_write_row(uint32_t row, const uint32_t weights[MRAM_MACRO_WEIGHT_DATA_COUNT]);
int mram_wait_row_written(void);
int mram_set_offset(uint32_t col, int32_t offset);
int32_t mram_get_offset(uint32_t col);
/* Sticky STATUS error flags (TDC_OVERFLOW, LENGTH_ERROR, BUS_ERROR, WRITE_FAILED), cleared. */
uint32_t mram_take_errors(void);

#endif /* MRAM_VMM_H */
