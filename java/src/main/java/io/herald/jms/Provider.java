package io.herald.jms;

/**
 * What the JMS classes ask of the broker, and all they ask: the seam between the JMS rules
 * (closed objects, domains, ack modes, listeners, which exception for which misuse) and the
 * code that moves messages. {@link JniProvider} is the production implementation for every
 * URL ({@code vm://} and {@code tcp://} alike: the native side picks the transport); tests
 * put an in-memory fake here to check the JMS rules without native code.
 *
 * <p>Resources are {@code long} handles the provider hands out and takes back exactly once
 * through {@link #release}; {@link NativeResource} refuses a released handle before it
 * reaches the provider. Failures are thrown as {@link HeraldNativeException} (an error kind
 * and a message), which {@link JmsExceptions#convert} maps onto the JMS exception classes.
 *
 * <p>Messages cross as MessagePack bytes ({@link MessageCodec}): a send hands over the
 * encoder's own buffer and a receive returns one encoded delivery, so each send or receive is
 * one call with no copy made for the seam.
 */
interface Provider {
    // ---- connections ----

    /** Opens a connection to the broker the URL names; user, password and clientId may be null. */
    long openConnection(String url, String user, String password, String clientId);

    void setClientId(long connection, String clientId);

    void start(long connection);

    void stop(long connection);

    /**
     * Blocks until the connection fails, is released or {@code timeoutMillis} passes (&lt; 0:
     * no limit). Throws the failure (a tcp:// server gone); returns normally otherwise.
     * Releasing the handle ends the wait.
     */
    void awaitFailure(long connection, long timeoutMillis);

    /** A session in a JMS session mode (0 transacted, 1 auto, 2 client, 3 dups-ok). */
    long createSession(long connection, int sessionMode);

    /** Creates a temporary queue or topic; returns it as {@code temp-queue://NAME} or {@code temp-topic://NAME}. */
    String createTemporary(long connection, boolean topic);

    void deleteTemporary(long connection, String destinationUri);

    // ---- sessions ----

    /** {@code destinationUri} null: a producer that names the destination on each send. */
    long createProducer(long session, String destinationUri);

    long createConsumer(long session, String destinationUri, String selector, boolean noLocal, String subscription,
            boolean durable, boolean shared);

    long createBrowser(long session, String queueUri, String selector);

    void unsubscribe(long session, String subscription);

    /** Acknowledges everything the session received (CLIENT_ACKNOWLEDGE). */
    void acknowledge(long session);

    /** Acknowledges what a listener received with {@code hold} (AUTO/DUPS_OK) once it returned. */
    void acknowledgeHeld(long session);

    void commit(long session);

    void rollback(long session);

    /** Redelivers everything the session received and has not acknowledged. */
    void recover(long session);

    /**
     * Whether the session acknowledges a listener's message itself once onMessage returns
     * (AUTO_ACKNOWLEDGE, DUPS_OK_ACKNOWLEDGE): asked once per session.
     */
    boolean acknowledgesAutomatically(long session);

    /** Blocks until a listening consumer of the session may have a message; true when woken. */
    boolean awaitDelivery(long session, long timeoutMillis);

    /** Ends an {@link #awaitDelivery} wait of the session (harmless on a released handle). */
    void wakeDelivery(long session);

    // ---- producers, consumers, browsers ----

    /**
     * Sends the message encoded in the first {@code length} bytes of {@code message}
     * ({@code destinationUri} null: the producer's own destination); writes {timestamp,
     * expiration, deliveryTime, hasId, idHigh, idLow} into {@code sent} (6 longs).
     */
    void send(long producer, String destinationUri, byte[] message, int length, int deliveryMode, int priority,
            long timeToLive, long deliveryDelay, boolean disableMessageId, boolean disableTimestamp, long[] sent);

    /**
     * timeout &lt; 0 waits forever, 0 does not wait; returns an encoded delivery or null. With
     * {@code hold} (listener delivery) an AUTO/DUPS_OK session keeps the message
     * unacknowledged until {@link #acknowledgeHeld} or a recover.
     */
    byte[] receive(long consumer, long timeoutMillis, boolean hold);

    /** Makes the consumer wake its session's {@link #awaitDelivery} when a message arrives (session 0: stop). */
    void setWakeup(long consumer, long session);

    /** The next message of the browser's snapshot, encoded as a delivery, or null at the end. */
    byte[] browseNext(long browser);

    // ---- every handle ----

    /** Closes and forgets any handle this provider gave out; called exactly once per handle. */
    void release(long handle);
}
