<?php
// The portal under test, one entry per SAML app the tests configure (sps.json). An entry with
// "basic" gets attributes by their plain names in the basic name format (mail, not its
// urn:oid), as SimpleSAMLphp, ADFS and Entra often release them.
foreach (json_decode(file_get_contents(getenv('TEST_IDP_RUN_DIR') . '/sps.json'), true) as $sp) {
    $metadata[$sp['entity_id']] = [
        'AssertionConsumerService' => $sp['acs_url'],
        'SingleLogoutService' => $sp['sls_url'],
        'certificate' => 'sp.crt',
        'assertion.encryption' => $sp['encrypt'],
        'sign.logout' => true,
    ];
    if (!empty($sp['basic'])) {
        $metadata[$sp['entity_id']]['attributes.NameFormat'] =
            'urn:oasis:names:tc:SAML:2.0:attrname-format:basic';
        // After the hosted IdP's name2oid (priority 100): back to the plain names.
        $metadata[$sp['entity_id']]['authproc'] = [110 => ['class' => 'core:AttributeMap', 'oid2name']];
    }
}
