// SPDX-License-Identifier: MIT
#pragma once

// Ownership in types (STYLE.md, "Errors and ownership"): raw pointers and references never
// own. An object on the kernel heap with one owner is held in an OwnPtr, which gives it back
// to the heap (kernel::destroy) when it goes; a shared kernel object derives from RefCounted
// and is held in RefPtrs, the last of which releases it.
//
//     Result<OwnPtr<Device>> create(...)
//     {
//         auto d = TRY(make_own<Device>());   // ENOMEM if the heap is out
//         TRY(d->set_up());                   // on an error, d goes back to the heap
//         return d;
//     }

#include <kernel/heap.h>
#include <kernel/result.h>

#include <cerrno>
#include <memory>
#include <type_traits>
#include <utility>

namespace atl::kernel {

// The deleter of an OwnPtr<T>: kernel::destroy. An OwnPtr<Derived> converts to an
// OwnPtr<Base> only when Base has a virtual destructor, so the right destructor runs (and
// Base's allocation is Derived's: single inheritance, the base at offset 0).
template <typename T>
struct HeapDelete {
    constexpr HeapDelete() = default;
    template <typename U>
        requires std::is_convertible_v<U*, T*>
    constexpr HeapDelete(const HeapDelete<U>&)
    {
        static_assert(std::is_same_v<std::remove_cv_t<T>, std::remove_cv_t<U>> || std::has_virtual_destructor_v<T>,
            "an OwnPtr to a base class needs the base's destructor to be virtual");
    }
    void operator()(T* p) const
    {
        // A class with an operator delete of its own (one with a virtual destructor, such as
        // virtio::Transport) goes through its deleting destructor: one virtual call where
        // kernel::destroy would put a call and a kfree at every place an owner ends.
        if constexpr (requires(void* q) { T::operator delete(q); })
            delete p;
        else
            destroy(p);
    }
};

template <typename T>
using OwnPtr = std::unique_ptr<T, HeapDelete<T>>;

// Takes ownership of P (from kernel::make, or nullptr).
template <typename T>
OwnPtr<T> adopt_own(T* p)
{
    return OwnPtr<T>(p);
}

// A T on the kernel heap, owned; ENOMEM when the heap is out.
template <typename T, typename... Args>
[[nodiscard]] Result<OwnPtr<T>> make_own(Args&&... args)
{
    T* p = make<T>(std::forward<Args>(args)...);
    if (!p)
        return Error::from_errno(ENOMEM);
    return OwnPtr<T>(p);
}

// The base of a reference-counted kernel object T (T derives from RefCounted<T>). A new
// object's count is 1: adopt_ref() takes that first reference into a RefPtr. When the count
// drops to 0, T::released() runs if T has one (an object whose life also depends on other
// things, such as an inode still linked in a directory, decides there), else the object goes
// back to the kernel heap.
//
// Every change to the count is in ref() and unref() below: a single CPU with interrupts off
// around kernel code needs nothing more today; a second CPU makes them atomic (or takes the
// object's lock) there, and nowhere else.
template <typename T>
class RefCounted {
public:
    RefCounted(const RefCounted&) = delete;
    RefCounted& operator=(const RefCounted&) = delete;

    void ref() const
    {
        check_live();
        ++m_refs;
    }
    // Drops a reference; the last one releases the object. True when it did.
    bool unref() const
    {
        check_live();
        if (--m_refs != 0)
            return false;
        T* self = const_cast<T*>(static_cast<const T*>(this));
        if constexpr (requires { self->released(); })
            self->released();
        else
            destroy(self);
        return true;
    }
    u32 ref_count() const { return m_refs; }

protected:
    RefCounted() = default;
    ~RefCounted() = default;

private:
    // A reference to a released object is a use after free: stop there (the trap's crash
    // report names the caller) rather than count on from 0.
    void check_live() const
    {
        if (m_refs == 0) [[unlikely]]
            __builtin_trap();
    }

    mutable u32 m_refs = 1;
};

// A counted reference to a T (a RefCounted<T> or a class derived from one).
template <typename T>
class RefPtr {
public:
    constexpr RefPtr() = default;
    constexpr RefPtr(std::nullptr_t) { }
    // A new reference to P (nullptr allowed).
    explicit RefPtr(T* p)
        : m_ptr(p)
    {
        if (m_ptr)
            m_ptr->ref();
    }
    RefPtr(const RefPtr& o)
        : RefPtr(o.m_ptr)
    {
    }
    RefPtr(RefPtr&& o) noexcept
        : m_ptr(std::exchange(o.m_ptr, nullptr))
    {
    }
    template <typename U>
        requires std::is_convertible_v<U*, T*>
    RefPtr(RefPtr<U>&& o) noexcept
        : m_ptr(o.leak_ref())
    {
    }
    template <typename U>
        requires std::is_convertible_v<U*, T*>
    RefPtr(const RefPtr<U>& o)
        : RefPtr(o.get())
    {
    }
    ~RefPtr() { clear(); }

    RefPtr& operator=(RefPtr o) noexcept
    {
        std::swap(m_ptr, o.m_ptr);
        return *this;
    }

    T* get() const { return m_ptr; }
    T* operator->() const { return m_ptr; }
    T& operator*() const { return *m_ptr; }
    explicit operator bool() const { return m_ptr != nullptr; }
    bool operator==(const RefPtr& o) const { return m_ptr == o.m_ptr; }
    bool operator==(const T* p) const { return m_ptr == p; }

    void clear()
    {
        if (T* p = std::exchange(m_ptr, nullptr))
            p->unref();
    }
    // Gives the reference up to the caller (who unrefs it later); the RefPtr is empty after.
    [[nodiscard]] T* leak_ref() { return std::exchange(m_ptr, nullptr); }

private:
    template <typename U>
    friend RefPtr<U> adopt_ref(U* p);
    struct Adopt { };
    RefPtr(T* p, Adopt)
        : m_ptr(p)
    {
    }

    T* m_ptr = nullptr;
};

// Takes over a reference the caller already holds (a new object's first, or one leak_ref()
// gave up) without counting another.
template <typename U>
RefPtr<U> adopt_ref(U* p)
{
    return RefPtr<U>(p, typename RefPtr<U>::Adopt {});
}

// A new reference-counted T on the kernel heap; ENOMEM when the heap is out.
template <typename T, typename... Args>
[[nodiscard]] Result<RefPtr<T>> make_ref(Args&&... args)
{
    T* p = make<T>(std::forward<Args>(args)...);
    if (!p)
        return Error::from_errno(ENOMEM);
    return adopt_ref(p);
}

} // namespace atl::kernel
