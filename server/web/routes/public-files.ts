// Files anyone may fetch: the CA certificate in PEM and DER (.otre) and the current CRL.
import type { FastifyPluginAsync } from 'fastify';

const publicFileRoutes: FastifyPluginAsync = async (app) => {
  const { ca, crl } = app.portal.enroll;

  app.get('/ca.crt', async (_request, reply) =>
    reply
      .type('application/x-x509-ca-cert')
      .header('content-disposition', 'attachment; filename="ca.crt"')
      .send(ca.certPem),
  );
  app.get('/ca.otre', async (_request, reply) =>
    reply
      .type('application/octet-stream')
      .header('content-disposition', 'attachment; filename="ca.otre"')
      .send(ca.certDer),
  );
  app.get('/crl.pem', async (request, reply) => {
    const { pem, etag } = crl.current();
    reply.header('etag', etag).header('cache-control', 'no-cache');
    const thisUpdate = crl.thisUpdate;
    if (thisUpdate) reply.header('last-modified', thisUpdate.toUTCString());
    if (request.headers['if-none-match'] === etag) return reply.status(304).send();
    return reply.type('application/pkix-crl').header('content-disposition', 'attachment; filename="crl.pem"').send(pem);
  });
};
export default publicFileRoutes;
