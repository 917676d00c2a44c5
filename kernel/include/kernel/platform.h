// SPDX-License-Identifier: MIT
#pragma once

// Platform services: what the machine around the CPU provides, declared once for portable
// code and defined by one folder under kernel/platform/ (kvm/: QEMU's pc, q35 and microvm,
// and Firecracker-style VMMs; later xen/). CMake picks the folder (ATOLL_PLATFORM).

#include <kernel/types.h>

namespace atl {
struct CommandLine;
}

namespace atl::platform {

// Console and kernel log (kvm: the 16550 at COM1; QEMU's isa-debugcon at 0xe9 as the log
// port when the VM has one).
void console_init();
void console_write(const char* s, std::size_t n);
bool has_log_port();
void log_port_write(const char* s, std::size_t n);

// Ends the VM and reports `code` (0..255) to the host.
[[noreturn]] void shutdown(int code);

// The wall clock of the machine's real-time clock, in ns since 1970; false when there is none.
bool read_wall_clock(u64* unix_ns);

// Interrupt controller: the machine's own set-up before the CPU's interrupts are (kvm: the
// legacy 8259s initialised and masked: the I/O APIC delivers device lines).
void interrupt_controller_init();
// Routes a platform interrupt line (a GSI: virtio-mmio and legacy lines)
// to a vector of CPU 0.
[[nodiscard]] bool route_gsi(u32 gsi, u32 vector, bool level_triggered);
// The address and data a device writes to raise `vector` on CPU 0 (MSI, MSI-X).
struct MsiMessage {
    u64 address;
    u32 data;
};
MsiMessage msi_message(u32 vector);

// PCI configuration space (kvm: the I/O ports 0xcf8/0xcfc, present on pc and q35).
struct PciAddress {
    u8 bus, device, function;
};
u32 pci_config_read32(PciAddress a, u8 offset);
void pci_config_write32(PciAddress a, u8 offset, u32 v);
// The narrower reads, from the 32-bit register that holds them.
inline u16 pci_config_read16(PciAddress a, u8 offset)
{
    return static_cast<u16>(pci_config_read32(a, offset) >> ((offset & 2) * 8));
}
inline u8 pci_config_read8(PciAddress a, u8 offset)
{
    return static_cast<u8>(pci_config_read32(a, offset) >> ((offset & 3) * 8));
}

// Device discovery: every device the platform knows of, PCI functions and memory-mapped
// devices the loader announced, in a stable order (memory-mapped ones first).
struct DeviceInfo {
    enum class Bus : u8 { Pci, VirtioMmio } bus;
    // Bus::Pci
    PciAddress pci;
    u16 vendor, device_id;
    u8 class_code, subclass;
    // Bus::VirtioMmio
    u64 base, size;
    u32 gsi;
};
using DeviceVisitor = void (*)(const DeviceInfo& device, void* context);
void discover_devices(const CommandLine& cmdline, DeviceVisitor visit, void* context);

// The host's control channel (kernel/control.h), a byte stream beside the console (kvm: a
// second 16550 at COM2, IRQ 3).
namespace control_port {
bool present();
void init();      // line settings, the interrupt line's gate; receive interrupts off
u32 gsi();
bool readable();
u8 read();
bool writable();
void write(u8 byte);
void set_receive_interrupt(bool on);
void enable_fifo(); // the receive FIFO at trigger level 1
} // namespace control_port

} // namespace atl::platform
