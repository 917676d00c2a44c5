// SPDX-License-Identifier: MIT
// OwnPtr and RefPtr (kernel/own.h) over the counting heap of tests/unit/fakes: every object
// goes back to the heap exactly once, through the right destructor.
#include <kernel/own.h>

#include "../fakes/failing_heap.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <utility>

namespace atl::kernel {
namespace {

using test::FailingHeap;

int s_destroyed = 0;

struct Base {
    virtual ~Base() { ++s_destroyed; }
    static void operator delete(void* p) { kfree(p); }
    virtual int value() const { return 1; }
};
struct Derived final : Base {
    explicit Derived(int v)
        : v(v)
    {
    }
    ~Derived() override { s_destroyed += 10; }
    int value() const override { return v; }
    int v;
};

struct OwnTest : ::testing::Test {
    long before = 0;
    void SetUp() override
    {
        FailingHeap::fail_nth(0);
        s_destroyed = 0;
        before = FailingHeap::outstanding();
    }
    void TearDown() override { EXPECT_EQ(FailingHeap::outstanding(), before) << "a leak"; }
};

TEST_F(OwnTest, MakeOwnFreesOnScopeExit)
{
    {
        Result<OwnPtr<Derived>> d = make_own<Derived>(7);
        ASSERT_TRUE(d);
        EXPECT_EQ((*d)->value(), 7);
        EXPECT_EQ(FailingHeap::outstanding(), before + 1);
    }
    EXPECT_EQ(s_destroyed, 11); // ~Derived, then ~Base
}

TEST_F(OwnTest, MakeOwnOutOfMemoryIsEnomem)
{
    FailingHeap::fail_nth(1);
    Result<OwnPtr<Derived>> d = make_own<Derived>(7);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error(), Error::from_errno(ENOMEM));
    EXPECT_EQ(s_destroyed, 0);
}

Result<int> uses_two(bool fail_second)
{
    auto a = TRY(make_own<Derived>(1));
    if (fail_second)
        FailingHeap::fail_nth(1);
    auto b = TRY(make_own<Derived>(2)); // on failure, a goes back as TRY returns
    return a->value() + b->value();
}

TEST_F(OwnTest, TryReleasesWhatWasTakenBefore)
{
    EXPECT_EQ(uses_two(false), 3);
    EXPECT_EQ(s_destroyed, 22);
    s_destroyed = 0;
    Result<int> r = uses_two(true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ENOMEM);
    EXPECT_EQ(s_destroyed, 11);
}

TEST_F(OwnTest, DerivedConvertsToBaseAndDestroysAsDerived)
{
    {
        OwnPtr<Base> b = std::move(*make_own<Derived>(5));
        EXPECT_EQ(b->value(), 5);
    }
    EXPECT_EQ(s_destroyed, 11);
    static_assert(!std::is_convertible_v<OwnPtr<Derived>, OwnPtr<int>>);
}

TEST_F(OwnTest, ReleaseHandsOwnershipOver)
{
    Derived* raw = nullptr;
    {
        OwnPtr<Derived> d = std::move(*make_own<Derived>(3));
        raw = d.release();
    }
    EXPECT_EQ(s_destroyed, 0);
    OwnPtr<Derived> again = adopt_own(raw);
    again.reset();
    EXPECT_EQ(s_destroyed, 11);
}

// ------------------------------------------------------------------------------- RefPtr
struct Counted : RefCounted<Counted> {
    ~Counted() { ++s_destroyed; }
    int payload = 42;
};

// An object that decides for itself at the last reference (as an inode still linked in a
// directory will): released() runs instead of the destruction.
struct Linked : RefCounted<Linked> {
    int released_calls = 0;
    void released() { ++released_calls; }
};

TEST_F(OwnTest, RefPtrCountsAndTheLastOneFrees)
{
    Result<RefPtr<Counted>> made = make_ref<Counted>();
    ASSERT_TRUE(made);
    RefPtr<Counted> a = std::move(*made);
    EXPECT_EQ(a->ref_count(), 1u);
    {
        RefPtr<Counted> b = a;
        RefPtr<Counted> c(a.get());
        EXPECT_EQ(a->ref_count(), 3u);
        RefPtr<Counted> d = std::move(b);
        EXPECT_FALSE(b);
        EXPECT_EQ(a->ref_count(), 3u);
        EXPECT_EQ(d, a);
    }
    EXPECT_EQ(a->ref_count(), 1u);
    EXPECT_EQ(s_destroyed, 0);
    a = nullptr;
    EXPECT_EQ(s_destroyed, 1);
}

TEST_F(OwnTest, RefPtrAssignmentDropsTheOldReference)
{
    RefPtr<Counted> a = std::move(*make_ref<Counted>());
    RefPtr<Counted> b = std::move(*make_ref<Counted>());
    a = b; // a's object loses its only reference
    EXPECT_EQ(s_destroyed, 1);
    EXPECT_EQ(b->ref_count(), 2u);
    RefPtr<Counted>& same = a;
    a = same; // self-assignment keeps the object
    EXPECT_EQ(b->ref_count(), 2u);
    a.clear();
    b.clear();
    EXPECT_EQ(s_destroyed, 2);
}

TEST_F(OwnTest, LeakAndAdoptKeepTheCount)
{
    RefPtr<Counted> a = std::move(*make_ref<Counted>());
    Counted* raw = a.leak_ref();
    EXPECT_FALSE(a);
    EXPECT_EQ(raw->ref_count(), 1u);
    RefPtr<Counted> back = adopt_ref(raw);
    EXPECT_EQ(back->ref_count(), 1u);
    back.clear();
    EXPECT_EQ(s_destroyed, 1);
}

TEST_F(OwnTest, MakeRefOutOfMemoryIsEnomem)
{
    FailingHeap::fail_nth(1);
    Result<RefPtr<Counted>> r = make_ref<Counted>();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), ENOMEM);
}

TEST_F(OwnTest, ReleasedHookReplacesDestruction)
{
    Linked* l = make<Linked>();
    ASSERT_NE(l, nullptr);
    {
        RefPtr<Linked> a = adopt_ref(l);
        RefPtr<Linked> b = a;
    }
    EXPECT_EQ(l->released_calls, 1);
    EXPECT_EQ(l->ref_count(), 0u);
    destroy(l); // released() left it to its owner
}

TEST_F(OwnTest, ReferenceToAReleasedObjectTraps)
{
    Linked* l = make<Linked>();
    EXPECT_TRUE(l->unref());
    EXPECT_DEATH(l->ref(), "");
    destroy(l);
}

} // namespace
} // namespace atl::kernel
