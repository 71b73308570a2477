package io.herald.jms;

import javax.jms.IllegalStateException;
import javax.jms.IllegalStateRuntimeException;
import javax.jms.InvalidClientIDException;
import javax.jms.InvalidClientIDRuntimeException;
import javax.jms.InvalidDestinationException;
import javax.jms.InvalidDestinationRuntimeException;
import javax.jms.InvalidSelectorException;
import javax.jms.InvalidSelectorRuntimeException;
import javax.jms.JMSException;
import javax.jms.JMSRuntimeException;
import javax.jms.JMSSecurityException;
import javax.jms.JMSSecurityRuntimeException;
import javax.jms.MessageFormatException;
import javax.jms.MessageFormatRuntimeException;
import javax.jms.ResourceAllocationException;
import javax.jms.ResourceAllocationRuntimeException;
import javax.jms.TransactionRolledBackException;
import javax.jms.TransactionRolledBackRuntimeException;

/** The one place native errors become JMS exceptions. */
final class JmsExceptions {
    private JmsExceptions() {}

    static JMSException convert(HeraldNativeException e) {
        String m = e.getMessage();
        JMSException j;
        switch (e.kind()) {
            case HeraldNativeException.INVALID_SELECTOR: j = new InvalidSelectorException(m); break;
            case HeraldNativeException.INVALID_DESTINATION: j = new InvalidDestinationException(m); break;
            case HeraldNativeException.ILLEGAL_STATE: j = new IllegalStateException(m); break;
            case HeraldNativeException.TRANSACTION_ROLLED_BACK: j = new TransactionRolledBackException(m); break;
            case HeraldNativeException.MESSAGE_FORMAT: j = new MessageFormatException(m); break;
            case HeraldNativeException.SECURITY: j = new JMSSecurityException(m); break;
            case HeraldNativeException.RESOURCE_ALLOCATION: j = new ResourceAllocationException(m); break;
            case HeraldNativeException.INVALID_CLIENT_ID: j = new InvalidClientIDException(m); break;
            default: j = new JMSException(m, "HERALD-" + e.kind()); break;
        }
        j.setLinkedException(e);
        j.initCause(e);
        return j;
    }

    /** Any throwable as a JMSException; existing JMSExceptions pass through. */
    static JMSException wrap(Throwable t) {
        if (t instanceof JMSException) {
            return (JMSException) t;
        }
        if (t instanceof HeraldNativeException) {
            return convert((HeraldNativeException) t);
        }
        JMSException j = new JMSException(String.valueOf(t.getMessage()));
        if (t instanceof Exception) {
            j.setLinkedException((Exception) t);
        }
        j.initCause(t);
        return j;
    }

    /** The JMS 2.0 simplified API's unchecked twin of a JMSException. */
    static JMSRuntimeException toRuntime(JMSException e) {
        String m = e.getMessage();
        String code = e.getErrorCode();
        JMSRuntimeException r;
        if (e instanceof InvalidSelectorException) r = new InvalidSelectorRuntimeException(m, code, e);
        else if (e instanceof InvalidDestinationException) r = new InvalidDestinationRuntimeException(m, code, e);
        else if (e instanceof IllegalStateException) r = new IllegalStateRuntimeException(m, code, e);
        else if (e instanceof TransactionRolledBackException) r = new TransactionRolledBackRuntimeException(m, code, e);
        else if (e instanceof MessageFormatException) r = new MessageFormatRuntimeException(m, code, e);
        else if (e instanceof JMSSecurityException) r = new JMSSecurityRuntimeException(m, code, e);
        else if (e instanceof ResourceAllocationException) r = new ResourceAllocationRuntimeException(m, code, e);
        else if (e instanceof InvalidClientIDException) r = new InvalidClientIDRuntimeException(m, code, e);
        else r = new JMSRuntimeException(m, code, e);
        return r;
    }
}
