package io.herald.jms;

import javax.jms.IllegalStateException;
import javax.jms.JMSException;

/**
 * A transacted session: everything it sends and receives belongs to the transaction in
 * progress until commit() or rollback() ends it and starts the next.
 * A failed commit arrives as a TransactionRolledBackException (the provider's
 * TRANSACTION_ROLLED_BACK kind, mapped in {@link JmsExceptions}). recover() has no meaning
 * here, and closing the session rolls back the transaction in progress.
 */
final class LocalTransactionContext implements TransactionContext {
    private final NativeResource session;
    /** Whether a send or receive happened since the last commit or rollback. */
    private volatile boolean work;

    LocalTransactionContext(NativeResource session) {
        this.session = session;
    }

    @Override public boolean isTransacted() {
        return true;
    }

    @Override public void onWork() {
        if (!work) work = true;
    }

    @Override public void commit() throws JMSException {
        session.run(Provider::commit);
        work = false;
    }

    @Override public void rollback() throws JMSException {
        session.run(Provider::rollback);
        work = false;
    }

    @Override public void recover() throws JMSException {
        throw new IllegalStateException("recover() cannot be called on a transacted session");
    }

    /**
     * Rolls back the transaction in progress: uncommitted sends are discarded and what was
     * received goes back for redelivery. With nothing sent or received since the last commit
     * or rollback there is nothing to roll back, and no call (over tcp:// a round trip) is
     * made. If the rollback fails (the connection is gone), releasing the handle discards
     * the same work, so close goes on.
     */
    @Override public void close() {
        if (!work) return;
        try {
            session.run(Provider::rollback);
        } catch (JMSException e) {
            // Releasing the session discards the uncommitted work all the same.
        }
    }
}
