// SPDX-License-Identifier: MIT
#pragma once

// Link-time registration: how a layer hands a lower one an object without the lower code
// naming a symbol above it. ATL_REGISTER puts the object's address into the section
// .atl_reg.<table>; the image's linker script (kernel/linker.ld) gathers each table between
// two symbols, which ATL_REGISTRY reads. An entry exists only when the object file that
// registers it is in the link: an archive member is linked when something it defines is used,
// so a layer or part an image does not use registers nothing and costs nothing.
//
// The tables (each listed in kernel/linker.ld):
//   image         the image's name, command line, root file system, main() (kernel/entry.h)
//   libos         the layer that runs the program (exactly one: kernel/entry.h)
//   drivers       the drivers' table (kernel/devices.h)
//   socket_layer  libos's inet/unix socket layer, when the program makes sockets

#include <kernel/types.h>

namespace atl::kernel {

template <typename T>
struct Registered {
    const T* const* first;
    const T* const* last;
    const T* const* begin() const { return first; }
    const T* const* end() const { return last; }
    std::size_t size() const { return static_cast<std::size_t>(last - first); }
    // The one entry of a table that takes at most one; nullptr when there is none.
    const T* only() const { return first == last ? nullptr : *first; }
};

} // namespace atl::kernel

#define ATL_REGISTER(table, Type, object)                                                                  \
    [[gnu::used, gnu::section(".atl_reg." #table)]] constinit const Type* const atl_reg_##table##_##object \
        = &object

#define ATL_REGISTRY(table, Type)                                                     \
    extern "C" const Type* const __atl_reg_##table##_start[];                         \
    extern "C" const Type* const __atl_reg_##table##_end[];                           \
    inline ::atl::kernel::Registered<Type> registered_##table()                       \
    {                                                                                 \
        return { __atl_reg_##table##_start, __atl_reg_##table##_end };                \
    }
