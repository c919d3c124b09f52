//! TLS for tokio-postgres: [`PgTls`] is its `MakeTlsConnect`, and [`PgTls::connect_sql`] opens an ordinary
//! connection in any `sslmode` (tokio-postgres itself knows only disable, prefer and require, and checks nothing:
//! the certificate checks are the rustls configuration's).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_postgres::{Client, Connection, Socket};

use super::{Negotiation, PgTls};

/// The message of tokio-postgres's error when the server declines TLS that the mode requires.
pub(super) const NO_TLS_SERVER: &str = "server does not support TLS";

impl PgTls {
    /// Opens an ordinary connection with `settings`, whose `ssl_mode` this mode decides (under `allow`, a second
    /// attempt with TLS follows a refused plain login). The connection's I/O is the caller's to drive.
    pub async fn connect_sql(
        &self,
        settings: &tokio_postgres::Config,
    ) -> Result<(Client, Connection<Socket, RustlsStream<Socket>>), tokio_postgres::Error> {
        let attempt = |negotiation| {
            let mut settings = settings.clone();
            settings.ssl_mode(match negotiation {
                Negotiation::Plain => DriverSslMode::Disable,
                Negotiation::Prefer => DriverSslMode::Prefer,
                Negotiation::Require => DriverSslMode::Require,
            });
            let tls = self.clone();
            async move { settings.connect(tls).await }
        };
        self.connect_with(attempt, |error: &tokio_postgres::Error| error.code().map(|code| code.code())).await
    }
}

impl MakeTlsConnect<Socket> for PgTls {
    type Stream = RustlsStream<Socket>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, io::Error> {
        Ok(RustlsConnect { tls: self.clone(), host: domain.to_owned() })
    }
}

/// The TLS handshake of one tokio-postgres connection, for the host it connects to.
pub struct RustlsConnect {
    tls: PgTls,
    host: String,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = BoxFuture<'static, io::Result<RustlsStream<S>>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move { self.tls.handshake(&self.host, stream).await.map(RustlsStream) })
    }
}

/// A tokio-postgres connection's stream over TLS.
pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        // SCRAM channel binding (tls-server-end-point) is not offered.
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
