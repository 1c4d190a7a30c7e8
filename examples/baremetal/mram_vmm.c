/* Bare-metal driver example for the MRAM VMM macro, using only the generated register header
 * (hdl/mram_macro_regs.h). Freestanding C99: no libc, no allocation.
 *
 *   gcc -std=c99 -ffreestanding -Wall -Wextra -Werror -I hdl -c examples/baremetal/mram_vmm.c
 *
 * Set MRAM_MACRO_BASE to the address where your interconnect maps the macro's s_axil port.
 * Input vectors and results travel on the AXI4-Stream ports (s_axis, m_axis), typically
 * through a DMA; this file covers the control side: identification, weights, calibration,
 * errors.
 */
#include <stdint.h>

#include "mram_macro_regs.h"
#include "mram_vmm.h"

#ifndef MRAM_MACRO_BASE
#define MRAM_MACRO_BASE 0x40000000u
#endif

/* Every register is one full 32-bit word: always access it as such (WSTRB = 0xF). */
#define MRAM_REG(offset) (*(volatile uint32_t *)((uintptr_t)(MRAM_MACRO_BASE) + (offset)))
#define MRAM_FIELD(word, reg_field) \
    (((word) & MRAM_MACRO_##reg_field##_MASK) >> MRAM_MACRO_##reg_field##_SHIFT)

int mram_probe(void)
{
    uint32_t geometry = MRAM_REG(MRAM_MACRO_GEOMETRY);

    if (MRAM_REG(MRAM_MACRO_ID) != MRAM_MACRO_ID_ID_RESET)
        return MRAM_ERR_NO_MACRO;
    /* The header was generated for one configuration: check the hardware is that one. */
    if (MRAM_FIELD(geometry, GEOMETRY_ROWS) != MRAM_MACRO_ROWS ||
        MRAM_FIELD(geometry, GEOMETRY_COLS) != MRAM_MACRO_COLS)
        return MRAM_ERR_GEOMETRY;
    return MRAM_OK;
}

int mram_write_row(uint32_t row, const uint32_t weights[MRAM_MACRO_WEIGHT_DATA_COUNT])
{
    uint32_t i;

    if (row >= MRAM_MACRO_ROWS)
        return MRAM_ERR_RANGE;
    /* CTRL.WRITE_ROW is refused (SLVERR) while a row write is in progress. */
    while (MRAM_REG(MRAM_MACRO_STATUS) & MRAM_MACRO_STATUS_WRITE_BUSY_MASK)
        ;
    for (i = 0; i < MRAM_MACRO_WEIGHT_DATA_COUNT; i++)
        MRAM_REG(MRAM_MACRO_WEIGHT_DATA(i)) = weights[i];
    MRAM_REG(MRAM_MACRO_WRITE_ROW_ADDR) = row << MRAM_MACRO_WRITE_ROW_ADDR_ROW_SHIFT;
    MRAM_REG(MRAM_MACRO_CTRL) = MRAM_MACRO_CTRL_WRITE_ROW_MASK;
    return MRAM_OK;
}

int mram_wait_row_written(void)
{
    uint32_t status;

    while ((status = MRAM_REG(MRAM_MACRO_STATUS)) & MRAM_MACRO_STATUS_WRITE_BUSY_MASK)
        ;
    if (status & MRAM_MACRO_STATUS_WRITE_FAILED_MASK) {
        MRAM_REG(MRAM_MACRO_STATUS) = MRAM_MACRO_STATUS_WRITE_FAILED_MASK; /* write 1 to clear */
        return MRAM_ERR_WRITE_FAILED;
    }
    return MRAM_OK;
}

int mram_set_offset(uint32_t col, int32_t offset)
{
    if (col >= MRAM_MACRO_CAL_OFFSET_COUNT)
        return MRAM_ERR_RANGE;
    if (offset < MRAM_MACRO_CAL_OFFSET_OFFSET_MIN || offset > MRAM_MACRO_CAL_OFFSET_OFFSET_MAX)
        return MRAM_ERR_RANGE;
    /* Signed fields are written sign-extended to 32 bits; a 16-bit pattern would be refused. */
    MRAM_REG(MRAM_MACRO_CAL_OFFSET(col)) = MRAM_MACRO_CAL_OFFSET_OFFSET_WORD(offset);
    return MRAM_OK;
}

int32_t mram_get_offset(uint32_t col)
{
    return (int32_t)MRAM_REG(MRAM_MACRO_CAL_OFFSET(col)); /* read back sign-extended */
}

uint32_t mram_take_errors(void)
{
    const uint32_t sticky = MRAM_MACRO_STATUS_TDC_OVERFLOW_MASK |
                            MRAM_MACRO_STATUS_LENGTH_ERROR_MASK |
                            MRAM_MACRO_STATUS_BUS_ERROR_MASK |
                            MRAM_MACRO_STATUS_WRITE_FAILED_MASK;
    uint32_t flags = MRAM_REG(MRAM_MACRO_STATUS) & sticky;

    if (flags)
        MRAM_REG(MRAM_MACRO_STATUS) = flags; /* w1c: clears exactly what was read */
    return flags;
}
