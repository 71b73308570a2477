package io.herald.jms;

import java.lang.ref.Cleaner;

import javax.jms.IllegalStateException;
import javax.jms.JMSException;

/**
 * Owns one handle of a {@link Provider} (for {@link JniProvider}, a native handle). {@link #handle()} refuses a closed handle with an
 * IllegalStateException, so a freed handle never reaches Rust; {@link #release()} is
 * idempotent. A handle its owner forgot to close is released by a shared Cleaner, whose
 * action is a static nested class that captures only the {@code long}.
 *
 * <p>Releasing while another thread is inside a native call on the same handle is safe:
 * the native side keeps the object alive for the duration of each call (the registry hands
 * out reference-counted clones), so {@code close()} can end a blocking {@code receive()}.
 */
final class NativeResource {
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "herald-cleaner");
        t.setDaemon(true);
        return t;
    });

    private static final class Release implements Runnable {
        private final Provider provider;
        private final long handle;

        Release(Provider provider, long handle) {
            this.provider = provider;
            this.handle = handle;
        }

        @Override public void run() {
            provider.release(handle);
        }
    }

    private final Provider provider;
    private final long handle;
    private final String what;
    private final Cleaner.Cleanable cleanable;
    private volatile boolean released;

    /**
     * Registers {@code owner}'s handle from {@code provider}: released when closed, or when
     * {@code owner} is unreachable.
     */
    NativeResource(Object owner, Provider provider, long handle, String what) {
        this.provider = provider;
        this.handle = handle;
        this.what = what;
        this.cleanable = CLEANER.register(owner, new Release(provider, handle));
    }

    /** The provider that gave out the handle; every call on it goes there. */
    Provider provider() {
        return provider;
    }

    long handle() throws IllegalStateException {
        if (released) {
            throw new IllegalStateException("the " + what + " is closed");
        }
        return handle;
    }

    /** The raw handle even when released (for a wake-up that is harmless on a stale handle). */
    long rawHandle() {
        return handle;
    }

    boolean isReleased() {
        return released;
    }

    void release() {
        released = true;
        cleanable.clean();
    }

    /** One provider call on the handle; {@code Provider::start} and the like fit as is. */
    interface Call<T> {
        T call(Provider provider, long handle);
    }

    interface VoidCall {
        void call(Provider provider, long handle);
    }

    /** Calls the provider with the open handle; a provider failure becomes its JMS exception. */
    <T> T call(Call<T> c) throws JMSException {
        long h = handle();
        try {
            return c.call(provider, h);
        } catch (HeraldNativeException e) {
            throw JmsExceptions.convert(e);
        }
    }

    void run(VoidCall c) throws JMSException {
        long h = handle();
        try {
            c.call(provider, h);
        } catch (HeraldNativeException e) {
            throw JmsExceptions.convert(e);
        }
    }
}
